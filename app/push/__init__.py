"""Push stage: what ProfRoute decided goes into Moodle, through the outbox.

Owns enrolments (read back first, batched, halved on refusal), suspensions and unenrolments,
the network (cohorts, internship groups and calendar events, learning plans), competency
ratings of closed deficits, and the messages to teachers. Every effect is one outbox row, so a
re-run never sends anything twice.
"""
