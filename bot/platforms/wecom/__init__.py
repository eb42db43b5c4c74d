"""WeCom: the self-built app callback (/wecom), the 智能机器人 (AI bot) callback (/wecom/aibot) and long
connection, the group robot webhook and app messages for pushes, template cards."""
from __future__ import annotations

from ..spec import ChannelKind, InstallContext, PlatformSpec, chat_or_users, webhook_options
from .config import FLAGS, SETTINGS

__all__ = ["PLATFORM", "WeComPlatform", "WeComAppClient", "WeComApiError", "markdown_to_text"]


def __getattr__(name: str):
    """The callback's and API client's names, loaded on first use: reading the settings must not load aiohttp."""
    if name in ("WeComAppClient", "WeComApiError"):
        from . import api
        return getattr(api, name)
    if name in ("WeComPlatform", "markdown_to_text"):
        from . import app
        return getattr(app, name)
    raise AttributeError(name)


def install(ctx: InstallContext) -> None:
    from .api import WeComAppClient
    from .app import WeComPlatform

    s = ctx.settings
    if s.wecom_enabled:
        client = None
        if s.wecom_secret and s.wecom_agent_id:
            client = WeComAppClient(s.wecom_corp_id, s.wecom_secret, s.wecom_agent_id, base_url=s.wecom_api_base)
        WeComPlatform(answer=ctx.answer, seen=ctx.seen, token=s.wecom_token, encoding_aes_key=s.wecom_aes_key,
                      corp_id=s.wecom_corp_id, app_client=client, now=ctx.clock, max_body_bytes=s.max_body_bytes,
                      replay_window=s.replay_window, on_card=_card_handler(ctx)).add_routes(ctx.app)
    if s.wecom_aibot_enabled or s.wecom_aibot_longconn_enabled:
        install_aibot(ctx)


def install_aibot(ctx: InstallContext) -> None:
    """The AI bot: one answering side, reached by the HTTP callback and/or the long connection."""
    from .aibot import AibotBot

    s = ctx.settings
    bot = AibotBot(answer=ctx.answer, seen=ctx.seen, now=ctx.clock, bot_name=s.wecom_aibot_name,
                   conversation=ctx.actions, dashboard_url=s.dashboard_url)
    if s.wecom_aibot_enabled:
        from .aibot_http import AibotCallback
        AibotCallback(bot, token=s.wecom_aibot_token, encoding_aes_key=s.wecom_aibot_aes_key,
                      max_body_bytes=s.max_body_bytes, replay_window=s.replay_window).add_routes(ctx.app)
    else:
        ctx.on_shutdown(bot.close)
    if s.wecom_aibot_longconn_enabled:
        from .aibot_ws import AibotConnection
        ctx.connections.append(AibotConnection(bot, bot_id=s.wecom_aibot_bot_id, secret=s.wecom_aibot_secret,
                                               ws_url=s.wecom_aibot_ws_url, claims=ctx.claims))


def _card_handler(ctx: InstallContext):
    if ctx.actions is None:
        return None
    from ..cards import act
    return lambda click: act(ctx.actions, click)


def _robot(cfg: dict, session):
    from .robot_channel import WeComRobotChannel
    return WeComRobotChannel.from_config(cfg, session)


def _app(cfg: dict, session):
    from .app_channel import WeComAppChannel
    return WeComAppChannel.from_config(cfg, session)


def _aibot(cfg: dict, session):
    from .aibot_channel import AibotChannel
    return AibotChannel.from_config(cfg, session)


def _app_options(options: dict) -> dict:
    if not options.get("to_users"):
        raise ValueError("企业微信应用消息需要 --to-users（userid，用 | 分隔）")
    return {"to_users": options["to_users"]}


def _describe(s) -> list[str]:
    """Start-up lines of `duban serve` ({url}: the server's base URL)."""
    lines = ["企业微信自建应用回调：{url}/wecom" + ("" if s.wecom_enabled else "（未配置密钥，该接口返回 404）")]
    if s.wecom_enabled and not (s.wecom_secret and s.wecom_agent_id):
        lines.append("提示：未配置企业微信应用 Secret/AgentID，超过 2048 字节的回答将被截断，超过 4 秒的回答无法送达")
    if s.wecom_aibot_enabled:
        lines.append("已启用 企业微信智能机器人回调：{url}/wecom/aibot")
    if s.wecom_aibot_longconn_enabled:
        lines.append(f"已启用 企业微信智能机器人长连接：{s.wecom_aibot_ws_url}（无需公网地址）")
    return lines


def _late_reply(settings, closers: list):
    """Through the app message API (a passive reply is gone with its request)."""
    if not (settings.wecom_enabled and settings.wecom_secret and settings.wecom_agent_id):
        return None
    from .api import WeComAppClient
    from .app import markdown_to_text

    client = WeComAppClient(settings.wecom_corp_id, settings.wecom_secret, settings.wecom_agent_id,
                            base_url=settings.wecom_api_base)
    closers.append(client.close)

    async def send(inbound, reply) -> bool:
        await client.send_text(inbound.reply_route.get("to_user") or inbound.user_id, markdown_to_text(reply.text))
        return True
    return send


PLATFORM = PlatformSpec(
    name="wecom",
    label="企业微信",
    roster_headers=("企业微信userid",),
    install=install,
    channels=(
        ChannelKind("wecom_robot", _robot, "企业微信群机器人（webhook）", from_cli=webhook_options),
        ChannelKind("wecom_app", _app, "企业微信应用消息",
                    defaults=lambda s: {**s.wecom_app_config, "dashboard_url": s.dashboard_url},
                    from_cli=_app_options),
        ChannelKind("wecom_aibot", _aibot, "企业微信智能机器人（长连接主动推送）", needs_session=False,
                    from_cli=chat_or_users("chatid", "userid")),
    ),
    describe=_describe,
    settings=SETTINGS,
    flags=FLAGS,
    late_reply=_late_reply,
)
