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

namespace local_profroute\external;

defined('MOODLE_INTERNAL') || die();

require_once(__DIR__ . '/../../compat.php');

use context_course;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;

/**
 * local_profroute_get_completions: course completions of some courses completed after a time.
 *
 * One call replaces one core_completion_get_course_completion_status per teacher and course.
 * A course that does not exist, or that the caller may not see or lacks
 * report/completion:view in, becomes a warning; the other courses are still answered.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_completions extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'courseids' => new external_multiple_structure(
                new external_value(PARAM_INT, 'Course id'), 'Courses to read'),
            'since' => new external_value(PARAM_INT,
                'Only completions with timecompleted greater than this unix time', VALUE_DEFAULT, 0),
        ]);
    }

    /**
     * Completed course completions, ordered by timecompleted, userid, courseid.
     *
     * @param int[] $courseids course ids
     * @param int $since unix time; only completions after it
     * @return array completions, warnings
     */
    public static function execute(array $courseids, int $since = 0): array {
        global $DB;

        $params = self::validate_parameters(self::execute_parameters(),
            ['courseids' => $courseids, 'since' => $since]);
        $courseids = array_values(array_unique(array_map('intval', $params['courseids'])));
        sort($courseids);

        $allowed = [];
        $warnings = [];
        foreach ($courseids as $courseid) {
            $warning = self::check_course($courseid);
            if ($warning) {
                $warnings[] = $warning;
            } else {
                $allowed[] = $courseid;
            }
        }
        if (!$allowed) {
            return ['completions' => [], 'warnings' => $warnings];
        }

        [$insql, $sqlparams] = $DB->get_in_or_equal($allowed, SQL_PARAMS_NAMED, 'course');
        $sqlparams['since'] = $params['since'];
        $rs = $DB->get_recordset_sql(
            "SELECT cc.id, cc.userid, cc.course, cc.timeenrolled, cc.timestarted, cc.timecompleted
               FROM {course_completions} cc
               JOIN {user} u ON u.id = cc.userid AND u.deleted = 0
              WHERE cc.course $insql
                AND cc.timecompleted IS NOT NULL
                AND cc.timecompleted > :since
           ORDER BY cc.timecompleted, cc.userid, cc.course", $sqlparams);
        $completions = [];
        foreach ($rs as $row) {
            $completions[] = [
                'userid' => (int)$row->userid,
                'courseid' => (int)$row->course,
                'timeenrolled' => (int)$row->timeenrolled,
                'timestarted' => (int)$row->timestarted,
                'timecompleted' => (int)$row->timecompleted,
            ];
        }
        $rs->close();
        return ['completions' => $completions, 'warnings' => $warnings];
    }

    /**
     * Whether the caller may read completions of a course.
     *
     * @param int $courseid course id
     * @return array|null a warning, or null when allowed
     */
    private static function check_course(int $courseid): ?array {
        global $DB;
        if ($courseid == SITEID) {
            return self::warning($courseid, 'invalidcourseid',
                get_string('warningsitecourse', 'local_profroute', $courseid));
        }
        if (!$DB->record_exists('course', ['id' => $courseid])) {
            return self::warning($courseid, 'invalidcourseid',
                get_string('warningnocourse', 'local_profroute', $courseid));
        }
        try {
            $context = context_course::instance($courseid);
            self::validate_context($context);
            require_capability('report/completion:view', $context);
        } catch (\moodle_exception $e) {
            return self::warning($courseid, 'nopermissions',
                get_string('warningnopermissions', 'local_profroute', $courseid));
        }
        return null;
    }

    /**
     * A warning about one course.
     *
     * @param int $courseid course id
     * @param string $code warning code
     * @param string $message text
     * @return array warning
     */
    private static function warning(int $courseid, string $code, string $message): array {
        return ['item' => 'course', 'itemid' => $courseid, 'warningcode' => $code, 'message' => $message];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'completions' => new external_multiple_structure(new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'User id'),
                'courseid' => new external_value(PARAM_INT, 'Course id'),
                'timeenrolled' => new external_value(PARAM_INT, 'Time enrolled (0 if unknown)'),
                'timestarted' => new external_value(PARAM_INT, 'Time started (0 if unknown)'),
                'timecompleted' => new external_value(PARAM_INT, 'Time completed'),
            ]), 'Completions ordered by timecompleted, userid, courseid'),
            'warnings' => new external_warnings(),
        ]);
    }
}
