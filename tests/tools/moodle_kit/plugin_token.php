<?php
// Does, on a kit Moodle (../shared/moodle-kit), what the README's "Connect your Moodle" steps 3-7
// tell an administrator to click: web services and REST on, a dedicated user `profroute`
// (auth "webservice"), the plugin's role "ProfRoute integration" assigned in the system context,
// the user authorised for the "ProfRoute" service, and a permanent token of that service.
// Idempotent. Prints one line "TOKEN profroute <token>" (never commit it).
//   sudo -u www-data php tests/tools/moodle_kit/plugin_token.php
define('CLI_SCRIPT', true);
require((getenv('MOODLE_DIR') ?: '/srv/moodle') . '/config.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->dirroot . '/webservice/lib.php');

$sys = context_system::instance();
set_config('enablewebservices', 1);
$protocols = array_filter(explode(',', (string)($CFG->webserviceprotocols ?? '')));
if (!in_array('rest', $protocols, true)) {
    $protocols[] = 'rest';
    set_config('webserviceprotocols', implode(',', $protocols));
}
$user = $DB->get_record('user', ['username' => 'profroute', 'deleted' => 0]);
if (!$user) {
    $id = user_create_user((object)['username' => 'profroute', 'auth' => 'webservice', 'confirmed' => 1,
        'mnethostid' => $CFG->mnet_localhost_id, 'firstname' => 'ProfRoute', 'lastname' => 'Integration',
        'email' => 'profroute@example.invalid', 'password' => 'not-used-' . random_string(20)], false, false);
    $user = $DB->get_record('user', ['id' => $id], '*', MUST_EXIST);
}
$role = $DB->get_record('role', ['shortname' => 'profroute'], '*', MUST_EXIST);
role_assign($role->id, $user->id, $sys->id);
$service = $DB->get_record('external_services', ['shortname' => 'profroute'], '*', MUST_EXIST);
$authorised = ['externalserviceid' => $service->id, 'userid' => $user->id];
if (!$DB->record_exists('external_services_users', $authorised)) {
    $DB->insert_record('external_services_users', (object)($authorised + ['timecreated' => time()]));
}
$token = $DB->get_field('external_tokens', 'token',
    ['userid' => $user->id, 'externalserviceid' => $service->id, 'tokentype' => EXTERNAL_TOKEN_PERMANENT],
    IGNORE_MULTIPLE);
if (!$token) {
    $token = \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $service, $user->id, $sys, 0, '',
        'ProfRoute');
}
echo "TOKEN profroute $token\n";
