"""The staff console: conversations, ratings, unanswered questions, dashboard and hand-off to a
person, served by the Rasa server itself at ``/staff/`` (see docs/staff.md).

- `db`: the console's own tables in the conversation database;
- `turns`: the per-turn index the tracker store fills as it saves each turn;
- `auth`: accounts, passwords (argon2), sessions, CSRF tokens, lock-out, audit log;
- `queries`: what the console reads (filtered lists, one conversation, unanswered groups,
  dashboard, CSV and NLU exports);
- `handoff`: leaving a message for staff, tickets, and delivering staff replies;
- `hooks`: the two calls the channels make around each message (`bot.channels.guard`);
- `channel`: the Sanic blueprint (``bot.staff.channel.StaffInput`` in bot/credentials.yml);
- `cli`: ``make staff-user``.
"""
