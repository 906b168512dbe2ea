<?php
// Allows or removes capabilities of the plugin's role "profroute" (or of the role named by
// ROLE_SHORTNAME, e.g. "user" = Authenticated user) in the system context on a kit Moodle, or
// lists the role's capabilities. Used by cap_necessity.py.
//   sudo -u www-data php role_cap.php allow|remove <capability> ...
//   sudo -u www-data php role_cap.php list
define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/srv/moodle') . '/config.php');

$roleid = $DB->get_field('role', 'id', ['shortname' => getenv('ROLE_SHORTNAME') ?: 'profroute'], MUST_EXIST);
$sys = context_system::instance();
$action = $argv[1] ?? 'list';
if ($action === 'list') {
    $caps = $DB->get_fieldset_select('role_capabilities', 'capability',
        'roleid = ? AND contextid = ? AND permission = ?', [$roleid, $sys->id, CAP_ALLOW]);
    sort($caps);
    echo implode("\n", $caps), "\n";
    exit(0);
}
foreach (array_slice($argv, 2) as $cap) {
    if (!get_capability_info($cap)) {
        fwrite(STDERR, "unknown capability $cap\n");
        exit(2);
    }
    if ($action === 'allow') {
        assign_capability($cap, CAP_ALLOW, $roleid, $sys->id, true);
    } else {
        unassign_capability($cap, $roleid, $sys->id);
    }
}
accesslib_clear_role_cache($roleid);
$sys->mark_dirty();
