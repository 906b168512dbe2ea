#!/usr/bin/env bash
# ProfRoute against the kit's real Moodle, as an administrator following the README would:
# build and install (or upgrade to) this checkout's plugin, then check-moodle, sync, deficits,
# recommend, approve --all and two pushes with the plugin role's token (~/profroute-token.txt,
# written by reset_kit.sh / plugin_token.php). Prints each push's summary, the calls Moodle's
# own log counted for the first push, and the enrolments that existed before and changed.
# Run as root from anywhere; state goes to /tmp/kit. Not part of make test.
set -x
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$ROOT"
B=.venv/bin
$B/profroute moodle-plugin build
ZIP=$(ls -t dist/local_profroute-*.zip | head -1); echo "zip $ZIP"
cd /srv/moodle/local && unzip -oq "$ROOT/$ZIP" && chmod -R a+rX profroute && cd "$ROOT"
runuser -u www-data -- php /srv/moodle/admin/cli/upgrade.php --non-interactive --allow-unstable | tail -2
Q() { runuser -u postgres -- psql -d moodle -Atc "$1"; }
Q "select count(*) from mdl_role_capabilities rc join mdl_role r on r.id=rc.roleid where r.shortname='profroute' and rc.permission=1"
Q "select ue.userid, e.courseid, ue.status, ue.timestart, ue.timeend from mdl_user_enrolments ue join mdl_enrol e on e.id=ue.enrolid where e.courseid in (3,4,5,6) order by 1,2" > /tmp/kit-enrol-before.txt
mkdir -p /tmp/kit && rm -f /tmp/kit/pr.db
export PROFROUTE_MOODLE_URL=http://127.0.0.1:8081 PROFROUTE_DATABASE_URL=sqlite:////tmp/kit/pr.db
export PROFROUTE_MOODLE_TOKEN=$(awk '{print $3}' ~/profroute-token.txt)
START=$(date +%s)
$B/profroute check-moodle; echo "check-moodle exit $?"
$B/profroute sync > /tmp/kit/sync.json; echo "sync exit $?"
$B/profroute deficits > /dev/null; echo "deficits exit $?"
$B/profroute recommend > /dev/null; echo "recommend exit $?"
$B/profroute approve --all > /dev/null; echo "approve exit $?"
P1=$(date +%s)
$B/profroute push > /tmp/kit/push1.json; echo "push1 exit $?"
P2=$(date +%s); sleep 1
$B/profroute push > /tmp/kit/push2.json; echo "push2 exit $?"
python3 - <<'PY'
import json
for f in ("/tmp/kit/push1.json", "/tmp/kit/push2.json"):
    d = json.load(open(f)); print(f, {k: d.get(k) for k in ("calls", "calls_by_function", "errors", "enrolments_sent", "already_enrolled", "foreign_enrolments", "held_courses", "messages_sent", "uncertain")})
PY
Q "select count(*) from mdl_logstore_standard_log where eventname like '%webservice_function_called%' and timecreated >= $P1 and timecreated < $P2"
Q "select other from mdl_logstore_standard_log where eventname like '%webservice_function_called%' and timecreated >= $P1 and timecreated < $P2" | sed 's/.*"function":"\([a-z_]*\)".*/\1/' | sort | uniq -c
Q "select ue.userid, e.courseid, ue.status, ue.timestart, ue.timeend from mdl_user_enrolments ue join mdl_enrol e on e.id=ue.enrolid where e.courseid in (3,4,5,6) order by 1,2" > /tmp/kit-enrol-after.txt
echo "enrolments existing before and changed after:"; comm -23 <(sort /tmp/kit-enrol-before.txt) <(sort /tmp/kit-enrol-after.txt)
echo "new enrolments:"; comm -13 <(sort /tmp/kit-enrol-before.txt) <(sort /tmp/kit-enrol-after.txt) | wc -l
