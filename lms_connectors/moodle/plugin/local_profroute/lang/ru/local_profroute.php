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
 * Russian strings for local_profroute.
 *
 * @package    local_profroute
 * @copyright  2026 ProfRoute
 * @license    https://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['cliensurerole'] = 'Роль id {$a->roleid}: разрешено прав в контексте системы: {$a->count}; может назначать: {$a->assignable}.';
$string['cliensurerolehelp'] = 'Создаёт роль «ProfRoute integration», если её нет, и выдаёт ей права, нужные ProfRoute. Повторный запуск безопасен.';
$string['pluginname'] = 'Интеграция с ProfRoute';
$string['privacy:metadata'] = 'Плагин интеграции с ProfRoute не хранит персональных данных. Его функции веб-служб только читают структуру тестов, завершение курсов и оценки компетенций для внешней системы ProfRoute, которую подключает администратор сайта.';
$string['roledescription'] = 'Для пользователя веб-служб ProfRoute (создана плагином local_profroute). Назначайте её в контексте системы только одному выделенному пользователю. Роль читает данные педагогов, курсов, результаты тестов и завершение курсов и записывает пользователей на курсы как студентов.';
$string['statusassignable'] = 'Роли, которые может назначать роль';
$string['statusauthorisedusers'] = 'Авторизованные пользователи службы';
$string['statuscapabilities'] = 'Права роли';
$string['statuscapabilitiescount'] = 'Разрешены все ({$a})';
$string['statuscapabilitiesmissing'] = 'Не разрешены: {$a}';
$string['statuscapabilitiesunknown'] = 'Неизвестны в этой версии Moodle (пропущены): {$a}';
$string['statuscheck'] = 'Проверка';
$string['statusfunctions'] = 'Функции службы';
$string['statusfunctionscount'] = 'Функций: {$a}';
$string['statusfunctionsmissing'] = 'Нет в этой версии Moodle: {$a}';
$string['statusheading'] = 'Состояние подключения ProfRoute';
$string['statusintro'] = 'Проверка (только чтение) того, что нужно ProfRoute. Чтобы подключить: включите веб-службы и протокол REST, назначьте роль «ProfRoute integration» выделенному пользователю в контексте системы, добавьте его в авторизованные пользователи службы «ProfRoute», создайте ключ для этого пользователя и службы «ProfRoute» и вставьте адрес сайта и ключ в ProfRoute.';
$string['statusnotfound'] = 'Не найдена (обновите плагин: Администрирование > Уведомления)';
$string['statusopen'] = 'Открыть';
$string['statusrest'] = 'Протокол REST включён';
$string['statusrole'] = 'Роль';
$string['statusrolemissing'] = 'Роль «profroute» не найдена: запустите local/profroute/cli/ensure_role.php или переустановите плагин';
$string['statusroleusers'] = 'Пользователи с этой ролью в контексте системы';
$string['statusservice'] = 'Внешняя служба «ProfRoute» включена';
$string['statustokens'] = 'Ключи службы';
$string['statusvalue'] = 'Состояние';
$string['statuswebservices'] = 'Веб-службы включены';
$string['warningmissingquestion'] = 'Позиция {$a}: вопрос отсутствует в банке вопросов.';
$string['warningnocourse'] = 'Курс {$a} не существует.';
$string['warningnopermissions'] = 'Курс {$a}: нет доступа или права просматривать завершение курса.';
$string['warningrandomslot'] = 'В позиции {$a} случайный вопрос: возвращены категория и метки его фильтра, сам вопрос в каждой попытке свой.';
$string['warningsitecourse'] = 'Курс {$a} — главная страница сайта: завершения курса у неё нет.';
