<?php
// Throw-away data for measuring push rates on a kit Moodle: <users> users kitbench0001… and
// <courses> courses kit-bench-1… (category 3, manual enrolment). Idempotent; prints one JSON line
// {"users": [ids], "courses": [ids]}. Reset the site afterwards (reset_kit.sh).
//   sudo -u www-data php bench_data.php 1000 2
define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/srv/moodle') . '/config.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->dirroot . '/enrol/manual/lib.php');

$nusers = (int)($argv[1] ?? 1000);
$ncourses = (int)($argv[2] ?? 2);
$users = [];
for ($i = 1; $i <= $nusers; $i++) {
    $username = sprintf('kitbench%04d', $i);
    $id = $DB->get_field('user', 'id', ['username' => $username, 'deleted' => 0]);
    if (!$id) {
        $id = user_create_user((object)['username' => $username, 'auth' => 'manual', 'confirmed' => 1,
            'mnethostid' => $CFG->mnet_localhost_id, 'firstname' => 'Бенч', 'lastname' => sprintf('Учитель %04d', $i),
            'email' => "$username@example.invalid", 'password' => 'Bench#2026'], false, false);
    }
    $users[] = (int)$id;
}
$courses = [];
for ($i = 1; $i <= $ncourses; $i++) {
    $shortname = "kit-bench-$i";
    $course = $DB->get_record('course', ['shortname' => $shortname]);
    if (!$course) {
        $course = create_course((object)['fullname' => "Замер скорости $i", 'shortname' => $shortname,
            'category' => 3]);
    }
    if (!$DB->record_exists('enrol', ['courseid' => $course->id, 'enrol' => 'manual'])) {
        (new enrol_manual_plugin())->add_default_instance($course);
    }
    $courses[] = (int)$course->id;
}
echo json_encode(['users' => $users, 'courses' => $courses]), "\n";
