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

use context_system;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;

/**
 * local_profroute_get_user_competencies: Moodle's own ratings of users in one framework.
 *
 * Reads competency_usercomp (the user competency, rated manually, by a course or by a plan)
 * for every competency of a framework, optionally limited to some users and to rows modified
 * after a time. One call replaces core_competency_list_user_plans plus one
 * core_competency_list_plan_competencies per plan and teacher, and also sees ratings of
 * competencies that are in no plan. Requires moodle/competency:usercompetencyview in the
 * system context (the role "ProfRoute integration" holds it).
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_user_competencies extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'frameworkid' => new external_value(PARAM_INT, 'Competency framework id'),
            'userids' => new external_multiple_structure(
                new external_value(PARAM_INT, 'User id'), 'Only these users (all when empty)',
                VALUE_DEFAULT, []),
            'since' => new external_value(PARAM_INT,
                'Only user competencies with timemodified greater than this unix time', VALUE_DEFAULT, 0),
        ]);
    }

    /**
     * User competencies of the framework, ordered by timemodified, userid, competencyid.
     *
     * @param int $frameworkid framework id
     * @param int[] $userids users, all when empty
     * @param int $since unix time; only rows modified after it
     * @return array usercompetencies, warnings
     */
    public static function execute(int $frameworkid, array $userids = [], int $since = 0): array {
        global $DB;

        $params = self::validate_parameters(self::execute_parameters(),
            ['frameworkid' => $frameworkid, 'userids' => $userids, 'since' => $since]);
        $context = context_system::instance();
        self::validate_context($context);
        require_capability('moodle/competency:usercompetencyview', $context);
        // Throws dml_missing_record_exception (errorcode invalidrecord) for an unknown framework.
        $DB->get_record('competency_framework', ['id' => $params['frameworkid']], 'id', MUST_EXIST);

        $sqlparams = ['frameworkid' => $params['frameworkid'], 'since' => $params['since']];
        $userwhere = '';
        $userids = array_values(array_unique(array_map('intval', $params['userids'])));
        if ($userids) {
            [$insql, $inparams] = $DB->get_in_or_equal($userids, SQL_PARAMS_NAMED, 'user');
            $userwhere = "AND uc.userid $insql";
            $sqlparams += $inparams;
        }
        $rs = $DB->get_recordset_sql(
            "SELECT uc.id, uc.userid, uc.competencyid, c.idnumber, uc.proficiency, uc.grade,
                    uc.status, uc.timemodified
               FROM {competency_usercomp} uc
               JOIN {competency} c ON c.id = uc.competencyid
               JOIN {user} u ON u.id = uc.userid AND u.deleted = 0
              WHERE c.competencyframeworkid = :frameworkid
                AND uc.timemodified > :since
                    $userwhere
           ORDER BY uc.timemodified, uc.userid, uc.competencyid", $sqlparams);
        $found = [];
        foreach ($rs as $row) {
            $found[] = [
                'userid' => (int)$row->userid,
                'competencyid' => (int)$row->competencyid,
                'idnumber' => (string)$row->idnumber,
                'proficiency' => $row->proficiency === null ? null : (bool)$row->proficiency,
                'grade' => $row->grade === null ? null : (int)$row->grade,
                'status' => (int)$row->status,
                'timemodified' => (int)$row->timemodified,
            ];
        }
        $rs->close();
        return ['usercompetencies' => $found, 'warnings' => []];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'usercompetencies' => new external_multiple_structure(new external_single_structure([
                'userid' => new external_value(PARAM_INT, 'User id'),
                'competencyid' => new external_value(PARAM_INT, 'Competency id'),
                'idnumber' => new external_value(PARAM_RAW, 'Competency idnumber'),
                'proficiency' => new external_value(PARAM_BOOL, 'Proficient; null while not rated',
                    VALUE_REQUIRED, null, NULL_ALLOWED),
                'grade' => new external_value(PARAM_INT, 'Rating on the framework scale; null while not rated',
                    VALUE_REQUIRED, null, NULL_ALLOWED),
                'status' => new external_value(PARAM_INT, 'Review status (0 idle, 1 waiting, 2 in review)'),
                'timemodified' => new external_value(PARAM_INT, 'Time modified'),
            ]), 'User competencies ordered by timemodified, userid, competencyid'),
            'warnings' => new external_warnings(),
        ]);
    }
}
