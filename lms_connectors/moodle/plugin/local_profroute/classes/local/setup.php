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

namespace local_profroute\local;

use context_system;

/**
 * The "ProfRoute integration" role: creation, capability sync and a read-only status report.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class setup {

    /** Short name of the role the plugin creates. */
    const ROLE_SHORTNAME = 'profroute';

    /** Name of the role the plugin creates (stored as is, like any custom role name). */
    const ROLE_NAME = 'ProfRoute integration';

    /** Short name of the external service declared in db/services.php. */
    const SERVICE_SHORTNAME = 'profroute';

    /** Archetype of the roles the integration role may assign (enrol_manual_enrol_users, roleid of student). */
    const ASSIGNABLE_ARCHETYPE = 'student';

    /**
     * Capabilities the role allows in the system context: generated into role_capabilities
     * by ProfRoute's role_build.py from Moodle's own function descriptions (a test keeps
     * both in step with ROLE_CAPABILITIES of lms_connectors/moodle/functions.py).
     */
    const CAPABILITIES = role_capabilities::ALL;

    /**
     * Creates the role if it is missing and makes it hold the plugin's capabilities. Idempotent.
     *
     * A capability this Moodle does not know is skipped (see {@see self::status()}). Capabilities
     * an administrator added to the role by hand are left alone.
     *
     * @return int the role id
     */
    public static function ensure_role(): int {
        global $DB;

        $role = $DB->get_record('role', ['shortname' => self::ROLE_SHORTNAME]);
        if ($role) {
            $roleid = (int)$role->id;
        } else {
            $roleid = (int)create_role(self::ROLE_NAME, self::ROLE_SHORTNAME,
                get_string('roledescription', 'local_profroute'), '');
        }
        set_role_contextlevels($roleid, [CONTEXT_SYSTEM]);

        $systemcontext = context_system::instance();
        foreach (self::CAPABILITIES as $capability) {
            if (get_capability_info($capability)) {
                assign_capability($capability, CAP_ALLOW, $roleid, $systemcontext->id, true);
            }
        }
        foreach (get_archetype_roles(self::ASSIGNABLE_ARCHETYPE) as $target) {
            $allow = ['roleid' => $roleid, 'allowassign' => $target->id];
            if (!$DB->record_exists('role_allow_assign', $allow)) {
                core_role_set_assign_allowed($roleid, $target->id);
            }
        }
        $systemcontext->mark_dirty();
        return $roleid;
    }

    /**
     * What an administrator needs to know before creating a token, as plain values.
     *
     * @return array keys: webservices, rest (bool); service (object|null), servicefunctions,
     *     missingfunctions, authorisedusers, tokens; role (object|null), missingcapabilities,
     *     unknowncapabilities, roleusers, assignable (role names the role may assign)
     */
    public static function status(): array {
        global $CFG, $DB;

        $protocols = empty($CFG->webserviceprotocols) ? [] : explode(',', $CFG->webserviceprotocols);
        $status = [
            'webservices' => !empty($CFG->enablewebservices),
            'rest' => in_array('rest', $protocols, true),
            'service' => $DB->get_record('external_services', ['shortname' => self::SERVICE_SHORTNAME]) ?: null,
            'servicefunctions' => 0,
            'missingfunctions' => [],
            'authorisedusers' => 0,
            'tokens' => 0,
            'role' => $DB->get_record('role', ['shortname' => self::ROLE_SHORTNAME]) ?: null,
            'missingcapabilities' => [],
            'unknowncapabilities' => [],
            'roleusers' => 0,
            'assignable' => [],
        ];

        if ($status['service']) {
            $serviceid = $status['service']->id;
            $status['servicefunctions'] = $DB->count_records('external_services_functions',
                ['externalserviceid' => $serviceid]);
            $status['missingfunctions'] = array_values($DB->get_fieldset_sql(
                'SELECT sf.functionname
                   FROM {external_services_functions} sf
              LEFT JOIN {external_functions} f ON f.name = sf.functionname
                  WHERE sf.externalserviceid = :serviceid AND f.id IS NULL
               ORDER BY sf.functionname', ['serviceid' => $serviceid]));
            $status['authorisedusers'] = $DB->count_records('external_services_users',
                ['externalserviceid' => $serviceid]);
            $status['tokens'] = $DB->count_records('external_tokens', ['externalserviceid' => $serviceid]);
        }

        if ($status['role']) {
            $roleid = $status['role']->id;
            $systemcontext = context_system::instance();
            $granted = $DB->get_records_menu('role_capabilities',
                ['roleid' => $roleid, 'contextid' => $systemcontext->id, 'permission' => CAP_ALLOW],
                '', 'capability, permission');
            foreach (self::CAPABILITIES as $capability) {
                if (!get_capability_info($capability)) {
                    $status['unknowncapabilities'][] = $capability;
                } else if (!isset($granted[$capability])) {
                    $status['missingcapabilities'][] = $capability;
                }
            }
            $status['roleusers'] = $DB->count_records('role_assignments',
                ['roleid' => $roleid, 'contextid' => $systemcontext->id]);
            $status['assignable'] = array_values($DB->get_fieldset_sql(
                'SELECT r.shortname
                   FROM {role_allow_assign} raa
                   JOIN {role} r ON r.id = raa.allowassign
                  WHERE raa.roleid = :roleid
               ORDER BY r.shortname', ['roleid' => $roleid]));
        }
        return $status;
    }
}
