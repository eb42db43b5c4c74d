"""DingTalk: the HTTP robot callback (/dingtalk), Stream mode (outbound WebSocket), the custom group robot
webhook and the app robot API for pushes, interactive reminder cards."""
from __future__ import annotations

from ..spec import ChannelKind, InstallContext, PlatformSpec, chat_or_users, webhook_options
from .config import FLAGS, SETTINGS

__all__ = ["PLATFORM", "DingTalkPlatform", "DEFAULT_SESSION_HOSTS", "normalise_text"]


def __getattr__(name: str):
    """The robot's names, loaded on first use: reading the settings must not load aiohttp."""
    if name in ("DingTalkPlatform", "DEFAULT_SESSION_HOSTS", "normalise_text"):
        from . import robot
        return getattr(robot, name)
    raise AttributeError(name)


def _robot(ctx: InstallContext, app_secret: str, http: bool):
    from .robot import DingTalkPlatform
    s = ctx.settings
    claim = (lambda mid, ts, sign: ctx.claim("dingtalk", mid, (ts, sign))) if http else None
    return DingTalkPlatform(answer=ctx.answer, seen=ctx.seen, app_secret=app_secret, bot_name=s.dingtalk_bot_name,
                            now=ctx.clock, max_body_bytes=s.max_body_bytes, sign_window=s.replay_window,
                            session_hosts=set(s.dingtalk_session_hosts),
                            reply_in_response=s.dingtalk_reply_in_response, claim=claim)


def install(ctx: InstallContext) -> None:
    s = ctx.settings
    robot = None
    if s.dingtalk_enabled:
        robot = _robot(ctx, s.dingtalk_app_secret, http=True)
        robot.add_routes(ctx.app)
    if s.dingtalk_stream_enabled:
        from .stream import DingTalkStreamClient

        stream_robot = _robot(ctx, s.dingtalk_client_secret, http=False)
        client = DingTalkStreamClient(client_id=s.dingtalk_client_id, client_secret=s.dingtalk_client_secret,
                                      robot=stream_robot, api_base=s.dingtalk_api_base, on_card=_card_handler(ctx),
                                      claims=ctx.claims)
        ctx.connections.append(client)
        ctx.on_shutdown(stream_robot.close)


def _card_handler(ctx: InstallContext):
    """Clicks on reminder cards, acted on as the clicking person (None when the server has no actions)."""
    if ctx.actions is None:
        return None
    from .cards import CardClicks
    return CardClicks(ctx.actions).on_click


def _app_robot(cfg: dict, session):
    from .app_channel import DingTalkAppChannel
    return DingTalkAppChannel.from_config(cfg, session)


def _webhook_robot(cfg: dict, session):
    from .robot_channel import DingTalkRobotChannel
    return DingTalkRobotChannel.from_config(cfg, session)


def _describe(s) -> list[str]:
    """Start-up lines of `duban serve` ({url}: the server's base URL)."""
    lines = ["钉钉机器人 HTTP 回调：{url}/dingtalk" + ("" if s.dingtalk_enabled else "（未配置密钥，该接口返回 404）")]
    if s.dingtalk_stream_enabled:
        lines.append(f"已启用 钉钉 Stream 长连接：{s.dingtalk_api_base}（无需公网地址）")
    return lines


def _late_reply(settings, closers: list):
    """Through the message's sessionWebhook while it is valid and on the allowlist (HTTP and Stream alike)."""
    if not (settings.dingtalk_enabled or settings.dingtalk_stream_enabled):
        return None
    from .robot import DingTalkPlatform
    secret = settings.dingtalk_app_secret or settings.dingtalk_client_secret  # verifies nothing here: it only sends
    robot = DingTalkPlatform(answer=lambda _: None, seen=lambda *_: True, app_secret=secret,
                             session_hosts=set(settings.dingtalk_session_hosts))
    closers.append(robot.close)

    async def send(inbound, reply) -> bool:
        if robot.route_problem(inbound):  # expired, or not on the allowlist
            return False
        await robot.post_reply(inbound, reply)
        return True
    return send


PLATFORM = PlatformSpec(
    name="dingtalk",
    label="钉钉",
    roster_headers=("钉钉userid",),
    install=install,
    channels=(
        ChannelKind("dingtalk_robot", _webhook_robot, "钉钉自定义群机器人（webhook）", from_cli=webhook_options),
        ChannelKind("dingtalk_app", _app_robot, "钉钉应用机器人（机器人发送接口）",
                    defaults=lambda s: {"client_id": s.dingtalk_client_id, "client_secret": s.dingtalk_client_secret,
                                        "api_base": s.dingtalk_api_base,
                                        "card_template_id": s.dingtalk_card_template_id},
                    from_cli=chat_or_users("open_conversation_id", "user_ids")),
    ),
    describe=_describe,
    settings=SETTINGS,
    flags=FLAGS,
    late_reply=_late_reply,
)
