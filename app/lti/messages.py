"""Russian texts of the LTI refusals: what happened and what to do, the technical reason after."""

from __future__ import annotations

from app.lti.exceptions import UnknownMoodleUser

COOKIE_HINT = ("Браузер не вернул cookie входа: начните вход из Moodle заново. Если ProfRoute "
               "открыт во фрейме Moodle, браузер может не передавать cookie стороннего сайта — "
               "выберите в настройках внешнего инструмента «Открывать в новом окне».")
# (part of pylti1p3's or PyJWT's message, Russian explanation)
REASONS = (
    ("Missing state param", "В ответе Moodle нет параметра state. " + COOKIE_HINT),
    ("State not found", "Параметр state не совпадает с cookie браузера. " + COOKIE_HINT),
    ("cookie", COOKIE_HINT),
    ("Invalid Nonce", "Этот вход уже был использован или устарел (nonce): повторная отправка "
                      "не принимается. Начните вход из Moodle заново."),
    ("Registration not found", "Платформа (iss и client_id) не зарегистрирована в ProfRoute: "
                               "администратор регистрирует её на странице /lti."),
    ("Could not find registration", "Платформа (iss и client_id) не зарегистрирована в "
                                    "ProfRoute: администратор регистрирует её на странице /lti."),
    ("Client id not registered", "Client ID не зарегистрирован для этой платформы: проверьте "
                                 "регистрацию на странице /lti."),
    ("Unable to find deployment", "Deployment ID не зарегистрирован для этой платформы: "
                                  "добавьте его на странице /lti."),
    ("Signature verification failed", "Подпись id_token не подходит к ключам платформы."),
    ("Signature has expired", "Срок действия id_token истёк: начните вход из Moodle заново "
                              "и проверьте часы серверов."),
    ("Invalid audience", "id_token выдан не для этого инструмента (aud не равен Client ID)."),
    ("Audience doesn't match", "id_token выдан не для этого инструмента (aud не равен "
                               "Client ID)."),
    ("Invalid issuer", "id_token выдан не той платформой (iss)."),
    ("not yet valid", "id_token выдан в будущем (iat): проверьте часы серверов."),
    ("Unable to find public key", "Ключ, которым подписан id_token, не найден в наборе ключей "
                                  "платформы (kid)."),
    ("Error during fetch URL", "Не удалось получить набор ключей платформы (Keyset URL)."),
    ("Could not find login hint", "В запросе входа нет login_hint: запрос пришёл не от Moodle."),
    ("Could not find issuer", "В запросе входа нет iss: запрос пришёл не от Moodle."),
    ("Missing id_token", "Moodle не передал id_token."),
    ("that no launch made", "Логин, который вход из Moodle создал бы для этого пользователя, "
                            "уже занят учётной записью с паролем: администратор должен "
                            "переименовать её."),
    ("is disabled", "Вход этого пользователя в ProfRoute отключён администратором."),
    ("role map", "Ни одна из ролей Moodle этого пользователя не даёт доступа к ProfRoute "
                 "(соответствие ролей задаёт настройка PROFROUTE_LTI_ROLE_MAP)."),
    ("resource-link", "ProfRoute принимает только обычный запуск инструмента: отключите "
                      "в Moodle «Supports Deep Linking» для этого инструмента."),
)


def refusal_ru(err: Exception) -> str:
    """The Russian explanation of a refused login or launch, with the technical reason."""
    reason = str(err)
    for part, text in REASONS:
        if part.lower() in reason.lower():
            return f"{text} (Причина: {reason}.)"
    return f"Вход из Moodle не принят. (Причина: {reason}.)"


def unknown_user_ru(err: UnknownMoodleUser) -> str:
    """The page for a Moodle user who is not among ProfRoute's teachers."""
    return (f"Пользователь Moodle с номером {err.subject} ({err.issuer}) не найден среди "
            "педагогов ProfRoute. Педагоги появляются в ProfRoute после синхронизации с "
            "Moodle (они должны быть записаны на курс диагностики). Если вы методист или "
            "администратор, попросите администратора ProfRoute проверить соответствие ролей "
            "Moodle ролям ProfRoute (настройка PROFROUTE_LTI_ROLE_MAP).")
