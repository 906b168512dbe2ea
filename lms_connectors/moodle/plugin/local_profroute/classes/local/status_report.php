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
use html_table;
use html_writer;
use moodle_url;

/**
 * Renders {@see setup::status()} as a table for the plugin's settings page. Read-only.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class status_report {

    /**
     * The status table with links to the pages where each problem is fixed.
     *
     * @return string HTML
     */
    public static function html(): string {
        $status = setup::status();
        $table = new html_table();
        $table->head = [get_string('statuscheck', 'local_profroute'), get_string('statusvalue', 'local_profroute')];
        $table->data = array_merge(self::site_rows($status), self::service_rows($status), self::role_rows($status));
        return html_writer::tag('p', get_string('statusintro', 'local_profroute')) . html_writer::table($table);
    }

    /**
     * Rows about web services and the REST protocol.
     *
     * @param array $status from setup::status()
     * @return array rows
     */
    private static function site_rows(array $status): array {
        return [
            self::row('statuswebservices', self::flag($status['webservices']),
                new moodle_url('/admin/search.php', ['query' => 'enablewebservices'])),
            self::row('statusrest', self::flag($status['rest']),
                new moodle_url('/admin/settings.php', ['section' => 'webserviceprotocols'])),
        ];
    }

    /**
     * Rows about the external service "ProfRoute".
     *
     * @param array $status from setup::status()
     * @return array rows
     */
    private static function service_rows(array $status): array {
        $service = $status['service'];
        if (!$service) {
            return [self::row('statusservice', self::bad(get_string('statusnotfound', 'local_profroute')), null)];
        }
        $functions = get_string('statusfunctionscount', 'local_profroute', $status['servicefunctions']);
        $functions = $status['missingfunctions']
            ? self::bad($functions . ' ' . get_string('statusfunctionsmissing', 'local_profroute',
                implode(', ', $status['missingfunctions'])))
            : self::good($functions);
        return [
            self::row('statusservice', self::flag(!empty($service->enabled)),
                new moodle_url('/admin/webservice/service.php', ['id' => $service->id])),
            self::row('statusfunctions', $functions,
                new moodle_url('/admin/webservice/service_functions.php', ['id' => $service->id])),
            self::row('statusauthorisedusers', self::count($status['authorisedusers']),
                new moodle_url('/admin/webservice/service_users.php', ['id' => $service->id])),
            self::row('statustokens', self::count($status['tokens']),
                new moodle_url('/admin/webservice/tokens.php')),
        ];
    }

    /**
     * Rows about the role "ProfRoute integration".
     *
     * @param array $status from setup::status()
     * @return array rows
     */
    private static function role_rows(array $status): array {
        $role = $status['role'];
        if (!$role) {
            return [self::row('statusrole', self::bad(get_string('statusrolemissing', 'local_profroute')), null)];
        }
        $caps = get_string('statuscapabilitiescount', 'local_profroute', count(setup::CAPABILITIES));
        if ($status['missingcapabilities']) {
            $caps = self::bad(get_string('statuscapabilitiesmissing', 'local_profroute',
                implode(', ', $status['missingcapabilities'])));
        } else {
            $caps = self::good($caps);
        }
        if ($status['unknowncapabilities']) {
            $caps .= ' ' . s(get_string('statuscapabilitiesunknown', 'local_profroute',
                implode(', ', $status['unknowncapabilities'])));
        }
        $assignable = $status['assignable'] ? self::good(implode(', ', $status['assignable']))
            : self::bad(get_string('none'));
        $systemcontextid = context_system::instance()->id;
        return [
            self::row('statusrole', self::good($role->name . ' (' . $role->shortname . ')'),
                new moodle_url('/admin/roles/define.php', ['action' => 'view', 'roleid' => $role->id])),
            self::row('statuscapabilities', $caps, null),
            self::row('statusassignable', $assignable,
                new moodle_url('/admin/roles/allow.php', ['mode' => 'assign'])),
            self::row('statusroleusers', self::count($status['roleusers']),
                new moodle_url('/admin/roles/assign.php', ['contextid' => $systemcontextid, 'roleid' => $role->id])),
        ];
    }

    /**
     * One table row: label, value (HTML, already escaped), optional link.
     *
     * @param string $labelid string id of the label
     * @param string $value HTML
     * @param moodle_url|null $link where to fix it
     * @return array row
     */
    private static function row(string $labelid, string $value, ?moodle_url $link): array {
        if ($link) {
            $value .= ' ' . html_writer::link($link, get_string('statusopen', 'local_profroute'));
        }
        return [get_string($labelid, 'local_profroute'), $value];
    }

    /**
     * Yes or no as a badge.
     *
     * @param bool $ok the value
     * @return string HTML
     */
    private static function flag(bool $ok): string {
        return $ok ? self::good(get_string('yes')) : self::bad(get_string('no'));
    }

    /**
     * A count: zero is a problem.
     *
     * @param int $count the count
     * @return string HTML
     */
    private static function count(int $count): string {
        return $count > 0 ? self::good((string)$count) : self::bad('0');
    }

    /**
     * A green badge.
     *
     * @param string $text plain text
     * @return string HTML
     */
    private static function good(string $text): string {
        return html_writer::span(s($text), 'badge badge-success bg-success text-white');
    }

    /**
     * A red badge.
     *
     * @param string $text plain text
     * @return string HTML
     */
    private static function bad(string $text): string {
        return html_writer::span(s($text), 'badge badge-danger bg-danger text-white');
    }
}
