<?php
// Does, on a kit Moodle (../shared/moodle-kit), what the README's "Sign-in from Moodle (LTI 1.3)"
// steps tell an administrator to click: an External tool "ProfRoute" of LTI 1.3 configured by
// hand (Manage tools) with ProfRoute's URLs, then an External tool activity of it in a course.
// Idempotent: a tool of the same name and tool URL, and its activity in the course, are reused.
// Prints one JSON line: issuer (Moodle's wwwroot), client_id, deployment_id (Moodle uses the
// tool's type id), cmid, Moodle's release.
//   runuser -u www-data -- php tests/tools/moodle_kit/lti_tool.php \
//       --profroute=http://127.0.0.1:5000 --course=2 [--container=embed|window] [--name=ProfRoute]
// With --remove, the tool of that name and URL and its activities in the course are deleted
// instead (lti_check.py --https removes the HTTPS tool it added).
define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/srv/moodle') . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->dirroot . '/course/modlib.php');
require_once($CFG->dirroot . '/mod/lti/locallib.php');

[$options] = cli_get_params(['profroute' => 'http://127.0.0.1:5000', 'course' => 2, 'container' => 'embed',
    'name' => 'ProfRoute', 'remove' => false]);
$base = rtrim($options['profroute'], '/');
$launch = $base . '/lti/launch';
\core\session\manager::set_user(get_admin());

$type = $DB->get_record('lti_types', ['name' => $options['name'], 'baseurl' => $launch], '*', IGNORE_MULTIPLE);
if ($options['remove']) {
    $removed = [];
    if ($type) {
        foreach ($DB->get_records('lti', ['course' => (int)$options['course'], 'typeid' => $type->id]) as $lti) {
            $cm = get_coursemodule_from_instance('lti', $lti->id, $lti->course, false, MUST_EXIST);
            course_delete_module($cm->id);
            $removed[] = (int)$cm->id;
        }
        lti_delete_type($type->id);
    }
    if (class_exists('\\tool_recyclebin\\course_bin')) {  // nor a copy in the course's recycle bin
        $bin = new \tool_recyclebin\course_bin((int)$options['course']);
        foreach ($bin->get_items() as $item) {
            if ($item->name === $options['name']) {
                $bin->delete_item($item);
            }
        }
    }
    echo json_encode(['removed_tool' => $type ? (int)$type->id : null, 'removed_cmids' => $removed]), "\n";
    exit(0);
}
if (!$type) {
    $type = (object)['state' => LTI_TOOL_STATE_CONFIGURED];
    $config = (object)[
        'lti_typename' => $options['name'],
        'lti_toolurl' => $launch,
        'lti_description' => 'ProfRoute: routes of professional growth (LTI 1.3 sign-in)',
        'lti_ltiversion' => LTI_VERSION_1P3,
        'lti_keytype' => LTI_JWK_KEYSET,
        'lti_publickeyset' => $base . '/lti/jwks',
        'lti_initiatelogin' => $base . '/lti/login',
        'lti_redirectionuris' => $launch,
        'lti_coursevisible' => LTI_COURSEVISIBLE_ACTIVITYCHOOSER,
        'lti_launchcontainer' => $options['container'] === 'window' ? LTI_LAUNCH_CONTAINER_WINDOW
            : LTI_LAUNCH_CONTAINER_EMBED,
        'lti_contentitem' => 0,             // Supports Deep Linking: off
        'lti_sendname' => LTI_SETTING_ALWAYS,
        'lti_sendemailaddr' => LTI_SETTING_NEVER,
        'lti_acceptgrades' => LTI_SETTING_NEVER,
        'lti_forcessl' => 0,
    ];
    $typeid = lti_add_type($type, $config);
    $type = $DB->get_record('lti_types', ['id' => $typeid], '*', MUST_EXIST);
}

$course = get_course((int)$options['course']);
$lti = $DB->get_record('lti', ['course' => $course->id, 'typeid' => $type->id], '*', IGNORE_MULTIPLE);
if ($lti) {
    $cm = get_coursemodule_from_instance('lti', $lti->id, $course->id, false, MUST_EXIST);
    $cmid = (int)$cm->id;
} else {
    $module = $DB->get_record('modules', ['name' => 'lti'], '*', MUST_EXIST);
    $info = (object)[
        'modulename' => 'lti', 'module' => $module->id, 'course' => $course->id, 'section' => 0,
        'visible' => 1, 'visibleoncoursepage' => 1, 'name' => $options['name'], 'typeid' => $type->id,
        'toolurl' => '', 'securetoolurl' => '', 'instructorchoicesendname' => LTI_SETTING_ALWAYS,
        'instructorchoicesendemailaddr' => LTI_SETTING_NEVER,
        'instructorchoiceacceptgrades' => LTI_SETTING_NEVER, 'launchcontainer' => LTI_LAUNCH_CONTAINER_DEFAULT,
        'showtitlelaunch' => 1, 'showdescriptionlaunch' => 0,
        'introeditor' => ['text' => '', 'format' => FORMAT_HTML, 'itemid' => 0],
        'cmidnumber' => '', 'groupmode' => 0, 'groupingid' => 0,
    ];
    $created = create_module($info);
    $cmid = (int)$created->coursemodule;
}
echo json_encode(['issuer' => $CFG->wwwroot, 'client_id' => $type->clientid,
    'deployment_id' => (string)$type->id, 'cmid' => $cmid, 'release' => $CFG->release]), "\n";
