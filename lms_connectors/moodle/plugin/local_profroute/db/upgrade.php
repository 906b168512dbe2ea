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
 * Upgrade: every new version re-syncs the role with the plugin's capability list.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

/**
 * Runs when the plugin's version number grows.
 *
 * @param int $oldversion the version installed before
 * @return bool
 */
function xmldb_local_profroute_upgrade($oldversion) {
    if ($oldversion < 2026120600) {
        // 1.2.0: the role gains what the push's read-backs need and the function descriptions
        // declare (moodle/course:enrolreview for core_enrol_get_enrolled_users with onlyactive,
        // moodle/course:useremail, moodle/competency:planviewown, the calendar's own and group
        // entries). An installed role is fixed here, before any push relies on it.
        \local_profroute\local\setup::ensure_role();
        upgrade_plugin_savepoint(true, 2026120600, 'local', 'profroute');
    }
    // Idempotent: creates the role if an administrator deleted it, adds capabilities a new
    // version needs; never removes what an administrator added.
    \local_profroute\local\setup::ensure_role();
    return true;
}
