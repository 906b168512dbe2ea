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
 * The plugin's external functions and the predefined "ProfRoute" external service.
 *
 * The service holds exactly the functions ProfRoute calls (lms_connectors.moodle.functions
 * SERVICE_FUNCTIONS in ProfRoute's code). Only authorised users may use it (restrictedusers):
 * the administrator adds the integration user under Site administration > Server > Web services >
 * External services > ProfRoute > Authorised users, then creates a token for that user.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$functions = [
    'local_profroute_get_quiz_slots' => [
        'classname' => 'local_profroute\external\get_quiz_slots',
        'methodname' => 'execute',
        'description' => 'Per slot of a quiz: the question id, idnumber, question category (id, idnumber, name) and tags.',
        'type' => 'read',
        'ajax' => false,
        'capabilities' => 'mod/quiz:viewreports, moodle/question:viewall',
    ],
    'local_profroute_get_completions' => [
        'classname' => 'local_profroute\external\get_completions',
        'methodname' => 'execute',
        'description' => 'Course completions of the given courses completed after a given time.',
        'type' => 'read',
        'ajax' => false,
        'capabilities' => 'report/completion:view',
    ],
    'local_profroute_get_user_competencies' => [
        'classname' => 'local_profroute\external\get_user_competencies',
        'methodname' => 'execute',
        'description' => 'Moodle\'s ratings (proficiency, grade) of users in the competencies of one framework, modified after a given time.',
        'type' => 'read',
        'ajax' => false,
        'capabilities' => 'moodle/competency:usercompetencyview',
    ],
];

$services = [
    'ProfRoute' => [
        'shortname' => 'profroute',
        'functions' => [
            'core_calendar_create_calendar_events',
            'core_calendar_get_calendar_events',
            'core_cohort_add_cohort_members',
            'core_cohort_create_cohorts',
            'core_cohort_get_cohort_members',
            'core_cohort_search_cohorts',
            'core_competency_add_competency_to_plan',
            'core_competency_create_plan',
            'core_competency_grade_competency',
            'core_competency_list_competencies',
            'core_competency_list_competency_frameworks',
            'core_competency_list_course_competencies',
            'core_competency_list_plan_competencies',
            'core_competency_list_user_plans',
            'core_completion_get_course_completion_status',
            'core_course_get_courses_by_field',
            'core_enrol_get_enrolled_users',
            'core_enrol_get_users_courses',
            'core_group_add_group_members',
            'core_group_create_groups',
            'core_group_get_course_groups',
            'core_group_get_group_members',
            'core_message_send_instant_messages',
            'core_user_get_users_by_field',
            'core_webservice_get_site_info',
            'enrol_manual_enrol_users',
            'enrol_manual_unenrol_users',
            'gradereport_user_get_grade_items',
            'local_profroute_get_completions',
            'local_profroute_get_quiz_slots',
            'local_profroute_get_user_competencies',
            'mod_quiz_get_attempt_review',
            'mod_quiz_get_quizzes_by_courses',
            'mod_quiz_get_user_attempts',
        ],
        'restrictedusers' => 1,
        'enabled' => 1,
        'downloadfiles' => 0,
        'uploadfiles' => 0,
    ],
];
