"""WeCom 智能机器人 long connection: a message whose first reply frame never reached WeCom (the socket dropped)
is answered when WeCom redelivers it after the reconnect — not taken for a duplicate of itself."""
from __future__ import annotations

import asyncio
import json

import pytest

from test_aibot_longconn import BOT_ID, CASES, SECRET, FakeOpenWs, wait_for


class DropFirstReply(FakeOpenWs):
    """Closes the socket when the first aibot_respond_msg arrives, without acknowledging it."""
    dropped = False

    async def acknowledge(self, ws, frame: dict) -> bool:
        if frame["cmd"] == "aibot_respond_msg" and not self.dropped:
            self.dropped = True
            await ws.close()
            return False
        return await super().acknowledge(ws, frame)


@pytest.fixture
async def dropping():
    fake = await DropFirstReply().start()
    yield fake
    await fake.stop()  # after the app (set up later, torn down first) has closed its connection


async def test_a_redelivery_after_a_dropped_first_frame_is_answered(dropping, tmp_path, aiohttp_server):
    from bot.server import create_app
    from bot.settings import Settings

    settings = Settings(db=str(tmp_path / "duban.db"), load_example=False, reminders_enabled=False)
    settings.wecom_aibot_bot_id, settings.wecom_aibot_secret, settings.wecom_aibot_ws_url = BOT_ID, SECRET, dropping.url
    await aiohttp_server(create_app(settings))
    ws = await dropping.sockets.get()
    await wait_for(lambda: dropping.sent("aibot_subscribe"))
    frame = CASES["text_callback_and_stream_reply"]["server_frame"]
    await ws.send_str(json.dumps(frame, ensure_ascii=False))
    again = await asyncio.wait_for(dropping.sockets.get(), 10)  # the connection is made anew
    await wait_for(lambda: len(dropping.sent("aibot_subscribe")) >= 2, timeout=10)
    await again.send_str(json.dumps(frame, ensure_ascii=False))  # WeCom redelivers what got no reply
    await wait_for(lambda: len(dropping.sent("aibot_respond_msg")) >= 2, timeout=10)
