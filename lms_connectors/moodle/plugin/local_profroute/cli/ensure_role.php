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
 * CLI: re-creates or repairs the "ProfRoute integration" role without a version upgrade.
 *
 * Usage: sudo -u www-data php local/profroute/cli/ensure_role.php
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

define('CLI_SCRIPT', true);

require(__DIR__ . '/../../../config.php');
require_once($CFG->libdir . '/clilib.php');

[$options, $unrecognised] = cli_get_params(['help' => false], ['h' => 'help']);
if ($unrecognised) {
    cli_error(get_string('cliunknowoption', 'admin', implode(PHP_EOL . '  ', $unrecognised)));
}
if ($options['help']) {
    cli_writeln(get_string('cliensurerolehelp', 'local_profroute'));
    exit(0);
}

$roleid = \local_profroute\local\setup::ensure_role();
$status = \local_profroute\local\setup::status();
cli_writeln(get_string('cliensurerole', 'local_profroute', (object)[
    'roleid' => $roleid,
    'count' => count(\local_profroute\local\setup::CAPABILITIES) - count($status['unknowncapabilities']),
    'assignable' => implode(', ', $status['assignable']),
]));
foreach ($status['unknowncapabilities'] as $capability) {
    cli_writeln(get_string('statuscapabilitiesunknown', 'local_profroute', $capability));
}
