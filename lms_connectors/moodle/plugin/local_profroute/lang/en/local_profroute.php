<?php
// This file is part of Moodle - https://moodle.org/
//
// Moodle is free software: you can redistribute it and/or modify
// it under the terms of the GNU General Public License as published by
// the Free Software Foundation, either version 3 of the License, or
// (at your option) any later version.
//
// Moodle is distributed in the hope that it will be useful,
// but WITHOUT ANY WARRANTY; without even the implied warranty of
// MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
// GNU General Public License for more details.
//
// You should have received a copy of the GNU General Public License
// along with Moodle.  If not, see <https://www.gnu.org/licenses/>.

/**
 * English strings for local_profroute.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['cliensurerole'] = 'Role id {$a->roleid}: {$a->count} capabilities allowed in the system context; may assign: {$a->assignable}.';
$string['cliensurerolehelp'] = 'Creates the "ProfRoute integration" role if it is missing and grants it the capabilities ProfRoute needs. Safe to run again.';
$string['pluginname'] = 'ProfRoute integration';
$string['privacy:metadata'] = 'The ProfRoute integration plugin stores no personal data. Its web-service functions only read quiz structure, course completions and competency ratings for the external ProfRoute system, which the site administrator connects.';
$string['roledescription'] = 'For the web-service user of ProfRoute (created by local_profroute). Assign it in the system context to one dedicated user only. It reads teachers, courses, quiz results and completions and enrols users as students.';
$string['statusassignable'] = 'Roles the role may assign';
$string['statusauthorisedusers'] = 'Authorised users of the service';
$string['statuscapabilities'] = 'Capabilities of the role';
$string['statuscapabilitiescount'] = 'All {$a} allowed';
$string['statuscapabilitiesmissing'] = 'Not allowed: {$a}';
$string['statuscapabilitiesunknown'] = 'Unknown on this Moodle version (skipped): {$a}';
$string['statuscheck'] = 'Check';
$string['statusfunctions'] = 'Functions in the service';
$string['statusfunctionscount'] = '{$a} functions';
$string['statusfunctionsmissing'] = 'Not available on this Moodle version: {$a}';
$string['statusheading'] = 'Status of the ProfRoute connection';
$string['statusintro'] = 'Read-only check of what ProfRoute needs. To connect: enable web services and the REST protocol, assign the role "ProfRoute integration" to a dedicated user in the system context, add that user to the authorised users of the service "ProfRoute", create a token for that user and the service "ProfRoute", and paste the site URL and the token into ProfRoute.';
$string['statusnotfound'] = 'Not found (upgrade the plugin from Site administration > Notifications)';
$string['statusopen'] = 'Open';
$string['statusrest'] = 'REST protocol enabled';
$string['statusrole'] = 'Role';
$string['statusrolemissing'] = 'Role "profroute" not found: run local/profroute/cli/ensure_role.php or reinstall the plugin';
$string['statusroleusers'] = 'Users holding the role in the system context';
$string['statusservice'] = 'External service "ProfRoute" enabled';
$string['statustokens'] = 'Tokens for the service';
$string['statusvalue'] = 'State';
$string['statuswebservices'] = 'Web services enabled';
$string['warningmissingquestion'] = 'Slot {$a}: the question is missing from the question bank.';
$string['warningnocourse'] = 'Course {$a} does not exist.';
$string['warningnopermissions'] = 'Course {$a}: no access or no permission to view course completion.';
$string['warningrandomslot'] = 'Slot {$a} holds a random question: the category and tags of its filter are returned, the question differs per attempt.';
$string['warningsitecourse'] = 'Course {$a} is the site home page: it has no course completion.';
