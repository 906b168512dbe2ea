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

use context_module;
use core_external\external_api;
use core_external\external_function_parameters;
use core_external\external_multiple_structure;
use core_external\external_single_structure;
use core_external\external_value;
use core_external\external_warnings;

/**
 * local_profroute_get_quiz_slots: per quiz slot, the question's id, idnumber, category and tags.
 *
 * Reads the question bank of Moodle 4.0+ (question_references > question_bank_entries >
 * question_versions): a slot pinned to a version gets that version, otherwise the latest
 * version that is not a draft (as the quiz itself does). A random-question slot has no fixed
 * question: it comes back with questionid 0, qtype "random", the category and tags of its
 * filter, and a warning.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class get_quiz_slots extends external_api {

    /**
     * Parameters.
     *
     * @return external_function_parameters
     */
    public static function execute_parameters(): external_function_parameters {
        return new external_function_parameters([
            'quizid' => new external_value(PARAM_INT, 'Quiz instance id'),
        ]);
    }

    /**
     * The slots of a quiz with their questions' bank data.
     *
     * @param int $quizid quiz instance id
     * @return array quizid, slots, warnings
     */
    public static function execute(int $quizid): array {
        global $DB;

        $params = self::validate_parameters(self::execute_parameters(), ['quizid' => $quizid]);
        $quiz = $DB->get_record('quiz', ['id' => $params['quizid']], 'id, course', MUST_EXIST);
        $cm = get_coursemodule_from_instance('quiz', $quiz->id, $quiz->course, false, MUST_EXIST);
        $context = context_module::instance($cm->id);
        self::validate_context($context);
        require_capability('mod/quiz:viewreports', $context);
        require_capability('moodle/question:viewall', $context);

        $slots = self::load_slots((int)$quiz->id, (int)$context->id);
        $versions = self::pick_versions($slots);
        $entries = self::load_entries(array_keys($versions));
        $questionids = array_values(array_filter(array_map(function($v) {
            return $v ? (int)$v->questionid : 0;
        }, $versions)));
        $questions = $questionids ? $DB->get_records_list('question', 'id', $questionids, '', 'id, name, qtype') : [];
        $tags = $questionids ? \core_tag_tag::get_items_tags('core_question', 'question', $questionids) : [];

        $result = [];
        $warnings = [];
        foreach ($slots as $slot) {
            $row = [
                'slot' => (int)$slot->slot,
                'page' => (int)$slot->page,
                'questionid' => 0,
                'qtype' => '',
                'name' => '',
                'idnumber' => '',
                'categoryid' => 0,
                'categoryidnumber' => '',
                'categoryname' => '',
                'maxmark' => (float)$slot->maxmark,
                'tags' => [],
            ];
            $version = $slot->questionbankentryid ? ($versions[$slot->questionbankentryid] ?? null) : null;
            if ($version && isset($questions[$version->questionid], $entries[$slot->questionbankentryid])) {
                $question = $questions[$version->questionid];
                $entry = $entries[$slot->questionbankentryid];
                $row['questionid'] = (int)$question->id;
                $row['qtype'] = (string)$question->qtype;
                $row['name'] = (string)$question->name;
                $row['idnumber'] = (string)$entry->idnumber;
                $row['categoryid'] = (int)$entry->categoryid;
                $row['categoryidnumber'] = (string)$entry->categoryidnumber;
                $row['categoryname'] = (string)$entry->categoryname;
                $row['tags'] = self::tag_names($tags[$question->id] ?? []);
            } else if ($slot->filtercondition !== null) {
                $row = self::random_slot($row, $slot->filtercondition);
                $warnings[] = self::warning($row['slot'], 'randomquestion', 'warningrandomslot');
            } else {
                $row['qtype'] = 'missingtype';
                $warnings[] = self::warning($row['slot'], 'missingquestion', 'warningmissingquestion');
            }
            $result[] = $row;
        }
        return ['quizid' => (int)$quiz->id, 'slots' => $result, 'warnings' => $warnings];
    }

    /**
     * The quiz's slots with their question reference or random-question filter, by slot number.
     *
     * @param int $quizid quiz instance id
     * @param int $contextid the quiz's module context id
     * @return array slot records
     */
    private static function load_slots(int $quizid, int $contextid): array {
        global $DB;
        return array_values($DB->get_records_sql(
            "SELECT slot.id, slot.slot, slot.page, slot.maxmark,
                    qr.questionbankentryid, qr.version AS requestedversion,
                    qsr.filtercondition
               FROM {quiz_slots} slot
          LEFT JOIN {question_references} qr
                 ON qr.usingcontextid = :ctx1 AND qr.component = 'mod_quiz'
                AND qr.questionarea = 'slot' AND qr.itemid = slot.id
          LEFT JOIN {question_set_references} qsr
                 ON qsr.usingcontextid = :ctx2 AND qsr.component = 'mod_quiz'
                AND qsr.questionarea = 'slot' AND qsr.itemid = slot.id
              WHERE slot.quizid = :quizid
           ORDER BY slot.slot",
            ['ctx1' => $contextid, 'ctx2' => $contextid, 'quizid' => $quizid]));
    }

    /**
     * The version each referenced bank entry resolves to: the pinned version, else the latest
     * non-draft version, else the latest version (what mod_quiz's qbank_helper does).
     *
     * @param array $slots from load_slots()
     * @return array question_versions record (or null) by question bank entry id
     */
    private static function pick_versions(array $slots): array {
        global $DB;
        $requested = [];
        foreach ($slots as $slot) {
            if ($slot->questionbankentryid) {
                $requested[(int)$slot->questionbankentryid] = $slot->requestedversion;
            }
        }
        if (!$requested) {
            return [];
        }
        $rows = $DB->get_records_list('question_versions', 'questionbankentryid', array_keys($requested),
            'questionbankentryid, version', 'id, questionbankentryid, version, questionid, status');
        $picked = array_fill_keys(array_keys($requested), null);
        $latestany = [];
        foreach ($rows as $row) {
            $entryid = (int)$row->questionbankentryid;
            $pinned = $requested[$entryid];
            if ($pinned !== null) {
                if ((int)$row->version === (int)$pinned) {
                    $picked[$entryid] = $row;
                }
                continue;
            }
            $latestany[$entryid] = $row;
            if ($row->status !== 'draft') {
                $picked[$entryid] = $row;
            }
        }
        foreach ($picked as $entryid => $row) {
            if ($row === null && $requested[$entryid] === null && isset($latestany[$entryid])) {
                $picked[$entryid] = $latestany[$entryid];
            }
        }
        return $picked;
    }

    /**
     * Question bank entries with their category.
     *
     * @param int[] $entryids question bank entry ids
     * @return array records by entry id: idnumber, categoryid, categoryidnumber, categoryname
     */
    private static function load_entries(array $entryids): array {
        global $DB;
        if (!$entryids) {
            return [];
        }
        [$insql, $params] = $DB->get_in_or_equal($entryids, SQL_PARAMS_NAMED, 'qbe');
        return $DB->get_records_sql(
            "SELECT qbe.id, qbe.idnumber, qc.id AS categoryid, qc.idnumber AS categoryidnumber,
                    qc.name AS categoryname
               FROM {question_bank_entries} qbe
               JOIN {question_categories} qc ON qc.id = qbe.questioncategoryid
              WHERE qbe.id $insql", $params);
    }

    /**
     * Fills a random-question slot from its filter (Moodle 4.3+ format or the 4.0-4.2 one).
     *
     * @param array $row the slot row so far
     * @param string $filtercondition JSON from question_set_references
     * @return array the row
     */
    private static function random_slot(array $row, string $filtercondition): array {
        global $DB;
        $filter = json_decode($filtercondition, true) ?: [];
        $row['qtype'] = 'random';
        $tagids = [];
        $tagnames = [];
        if (isset($filter['filter'])) {
            $categoryid = (int)($filter['filter']['category']['values'][0] ?? 0);
            $tagids = array_map('intval', $filter['filter']['qtagids']['values'] ?? []);
        } else {
            $categoryid = (int)($filter['questioncategoryid'] ?? 0);
            foreach ($filter['tags'] ?? [] as $legacytag) {
                $parts = explode(',', (string)$legacytag, 2);
                $tagnames[] = $parts[1] ?? $parts[0];
            }
        }
        if ($tagids) {
            $tagnames = array_values($DB->get_records_list('tag', 'id', $tagids, 'id', 'id, rawname'));
            $tagnames = array_map(function($tag) {
                return (string)$tag->rawname;
            }, $tagnames);
        }
        $row['tags'] = $tagnames;
        $category = $categoryid ? $DB->get_record('question_categories', ['id' => $categoryid], 'id, idnumber, name') : null;
        if ($category) {
            $row['categoryid'] = (int)$category->id;
            $row['categoryidnumber'] = (string)$category->idnumber;
            $row['categoryname'] = (string)$category->name;
        }
        return $row;
    }

    /**
     * Display names of a question's tags, in Moodle's order.
     *
     * @param \core_tag_tag[] $tags tags of one question
     * @return string[] names
     */
    private static function tag_names(array $tags): array {
        $names = [];
        foreach ($tags as $tag) {
            $names[] = (string)$tag->rawname;
        }
        return $names;
    }

    /**
     * A warning about one slot.
     *
     * @param int $slot slot number
     * @param string $code warning code
     * @param string $stringid lang string id (takes the slot number)
     * @return array warning
     */
    private static function warning(int $slot, string $code, string $stringid): array {
        return [
            'item' => 'quiz_slot',
            'itemid' => $slot,
            'warningcode' => $code,
            'message' => get_string($stringid, 'local_profroute', $slot),
        ];
    }

    /**
     * Return structure.
     *
     * @return external_single_structure
     */
    public static function execute_returns(): external_single_structure {
        return new external_single_structure([
            'quizid' => new external_value(PARAM_INT, 'Quiz instance id'),
            'slots' => new external_multiple_structure(new external_single_structure([
                'slot' => new external_value(PARAM_INT, 'Slot number'),
                'page' => new external_value(PARAM_INT, 'Page of the slot'),
                'questionid' => new external_value(PARAM_INT, 'Question id (version in use); 0 for a random or missing question'),
                'qtype' => new external_value(PARAM_ALPHANUMEXT, 'Question type; "random" for a random-question slot'),
                'name' => new external_value(PARAM_TEXT, 'Question name'),
                'idnumber' => new external_value(PARAM_RAW, 'Question bank entry idnumber ("" if none)'),
                'categoryid' => new external_value(PARAM_INT, 'Question category id (the filter\'s for a random slot)'),
                'categoryidnumber' => new external_value(PARAM_RAW, 'Question category idnumber ("" if none)'),
                'categoryname' => new external_value(PARAM_TEXT, 'Question category name'),
                'maxmark' => new external_value(PARAM_FLOAT, 'Maximum mark of the slot'),
                'tags' => new external_multiple_structure(
                    new external_value(PARAM_TEXT, 'Tag name as entered (rawname)'),
                    'Tags of the question (the filter\'s tags for a random slot)'),
            ]), 'Slots in slot order'),
            'warnings' => new external_warnings(),
        ]);
    }
}
