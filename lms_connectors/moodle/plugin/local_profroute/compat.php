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
 * Makes the core_external class names of Moodle 4.2+ available on Moodle 4.1.
 *
 * Moodle 4.2 moved the external API from lib/externallib.php (\external_api, \external_value, ...)
 * to the core_external namespace and left the old names as aliases. This file does the reverse
 * on 4.1, so the plugin's classes use the new names on every supported version.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

if (!class_exists('core_external\\external_api')) {
    global $CFG;
    require_once($CFG->libdir . '/externallib.php');
    foreach ([
        'external_api',
        'external_function_parameters',
        'external_multiple_structure',
        'external_single_structure',
        'external_value',
        'external_warnings',
    ] as $profroutelegacyclass) {
        if (!class_exists('core_external\\' . $profroutelegacyclass)) {
            class_alias($profroutelegacyclass, 'core_external\\' . $profroutelegacyclass);
        }
    }
    unset($profroutelegacyclass);
}
