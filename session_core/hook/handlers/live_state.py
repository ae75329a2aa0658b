"""live_state: after every save of an event, what the status line shows for the session."""

from __future__ import annotations

from ...store import chat, entries
from ..live import write_live
from ..run import HookContext


def update(ctx: HookContext) -> None:
    """Leave the status line its numbers: archived messages of this session, time of this save.

    The transcript often lags behind Stop (the reply is not in the file yet), while the prompt
    and reply from the payloads are already kept in ``chat_turns``: count whichever is more.
    """
    session = ctx.session_id
    if session is None:
        return
    ctx.commit()  # what the status line shows is what is committed
    conn = ctx.archive().db.conn
    write_live(ctx.archive_dir, session,
               max(entries.message_count(conn, session), chat.count(conn, session)))
