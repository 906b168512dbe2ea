"""Russian names, patronymics and surnames for the seed, with gender agreement and translit."""

from __future__ import annotations

import random

FEMALE_FIRST = (
    "Анна", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Марина",
    "Екатерина", "Юлия", "Мария", "Людмила", "Галина", "Надежда", "Оксана", "Анастасия",
    "Валентина", "Лариса", "Вера", "Ксения", "Дарья", "Алина", "Гульнара", "Альбина",
)
MALE_FIRST = (
    "Александр", "Сергей", "Андрей", "Алексей", "Дмитрий", "Михаил", "Николай", "Иван",
    "Владимир", "Роман", "Максим", "Павел", "Игорь", "Руслан", "Ильдар", "Олег",
)
PATRONYMICS = (  # (male, female)
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"),
    ("Владимирович", "Владимировна"), ("Николаевич", "Николаевна"),
    ("Андреевич", "Андреевна"), ("Петрович", "Петровна"), ("Иванович", "Ивановна"),
    ("Михайлович", "Михайловна"), ("Викторович", "Викторовна"), ("Юрьевич", "Юрьевна"),
    ("Анатольевич", "Анатольевна"), ("Олегович", "Олеговна"), ("Рустамович", "Рустамовна"),
    ("Дмитриевич", "Дмитриевна"), ("Геннадьевич", "Геннадьевна"), ("Ильич", "Ильинична"),
)
SURNAMES = (  # male forms
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Хабибуллин", "Сафин", "Гарипов", "Валиев", "Закиров", "Шарипов", "Галиев", "Нуриев",
    "Белозерский", "Покровский", "Вознесенский", "Соколовский",
)
_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
     "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"),
    strict=True,
))


def translit(text: str) -> str:
    """Transliterate Russian text to lowercase Latin letters (passport-like)."""
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())


def female_surname(male: str) -> str:
    """The feminine form of a Russian surname (-ов → -ова, -ский → -ская, -ин → -ина)."""
    if male.endswith("ский"):
        return male[:-4] + "ская"
    return male + "а"


def person(rng: random.Random, female_share: float = 0.8) -> tuple[str, str, str, bool]:
    """Draw a person as ``(lastname, firstname, middlename, is_female)`` with agreement."""
    female = rng.random() < female_share
    surname = rng.choice(SURNAMES)
    male_patronymic, female_patronymic = rng.choice(PATRONYMICS)
    if female:
        return female_surname(surname), rng.choice(FEMALE_FIRST), female_patronymic, True
    return surname, rng.choice(MALE_FIRST), male_patronymic, False


def username(lastname: str, firstname: str, middlename: str, taken: set[str]) -> str:
    """``ivanova.ms``-style login, made unique with a digit suffix."""
    base = f"{translit(lastname)}.{translit(firstname[0])}{translit(middlename[0])}"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name
