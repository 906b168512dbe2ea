<?php
// Puts a course of a kit Moodle in separate groups mode and prohibits
// moodle/site:accessallgroups there for the web-service role ("on"), or undoes both ("off").
// Used by record_silent.py; the role defaults to the kit's "pd_integration".
//   sudo -u www-data php separate_groups.php on|off <courseid>
define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/srv/moodle') . '/config.php');

[$action, $courseid] = [$argv[1] ?? '', (int)($argv[2] ?? 0)];
$roleid = $DB->get_field('role', 'id', ['shortname' => getenv('ROLE_SHORTNAME') ?: 'pd_integration'],
    MUST_EXIST);
$context = context_course::instance($courseid);
if ($action === 'on') {
    $DB->set_field('course', 'groupmode', SEPARATEGROUPS, ['id' => $courseid]);
    assign_capability('moodle/site:accessallgroups', CAP_PROHIBIT, $roleid, $context->id, true);
} else if ($action === 'off') {
    $DB->set_field('course', 'groupmode', NOGROUPS, ['id' => $courseid]);
    unassign_capability('moodle/site:accessallgroups', $roleid, $context->id);
} else {
    fwrite(STDERR, "usage: separate_groups.php on|off <courseid>\n");
    exit(2);
}
rebuild_course_cache($courseid, true);
echo "$action: course $courseid groupmode ", $DB->get_field('course', 'groupmode', ['id' => $courseid]), "\n";
