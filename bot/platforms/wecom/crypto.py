"""WeCom callback crypto (the WXBizMsgCrypt scheme) on `cryptography`.

AES-256-CBC, IV = key[:16], PKCS#7 padding to a 32-byte block, plaintext
`random16 | len(be32) | msg | receiveid`, SHA1 signature over the sorted
(token, timestamp, nonce, encrypt). Decryption is stricter than the reference
libraries: the padding must be valid PKCS#7 for a 32-byte block.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string
import struct
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree as safe_et
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException

BLOCK = 32  # WeCom's PKCS#7 block size, not AES's 16
_PREFIX_ALPHABET = string.ascii_letters + string.digits


class WeComCryptoError(Exception):
    """Rejected input. `stage` is one of: signature, base64, decrypt, padding,
    framing, receiveid, xml (the vectors' expected_reject_stage vocabulary)."""

    def __init__(self, stage: str):
        super().__init__(f"wecom crypto rejected at {stage}")
        self.stage = stage


def sha1_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """lowercase hex SHA1 of the four values sorted and joined without separator."""
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def derive_aes_key(encoding_aes_key: str) -> bytes:
    """43-char EncodingAESKey -> 32-byte key. Lenient: the unused low bits of
    the 43rd character are ignored, as WeCom's own samples do."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except binascii.Error:
        raise ValueError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey does not decode to 32 bytes")
    return key


def parse_xml(text: str | bytes) -> dict[str, str]:
    """Direct children of the root element as {tag: text}, via defusedxml.

    Any DTD (and so any entity declaration or entity bomb) is refused.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        root = safe_et.fromstring(data, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise WeComCryptoError("xml") from None
    return {child.tag: child.text or "" for child in root}


def cdata(value: str) -> str:
    """Wrap in CDATA, splitting any ']]>' so the text cannot close it early."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, corp_id: str):
        self._token = token
        self._key = derive_aes_key(encoding_aes_key)
        self.corp_id = corp_id

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"WeComCrypto(corp_id={self.corp_id!r})"

    # -- inbound ---------------------------------------------------------

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """GET URL verification: the decrypted echostr, to be returned as-is."""
        return self.decrypt(msg_signature, timestamp, nonce, echostr)

    def decrypt(self, msg_signature: str, timestamp: str, nonce: str, encrypt_b64: str) -> str:
        """Check the signature, then decrypt; returns the message (XML text)."""
        self.check_signature(msg_signature, timestamp, nonce, encrypt_b64)
        try:
            ciphertext = base64.b64decode(encrypt_b64, validate=True)
        except (binascii.Error, ValueError):
            raise WeComCryptoError("base64") from None
        if not ciphertext or len(ciphertext) % 16:
            raise WeComCryptoError("decrypt")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()
        return self._unframe(_unpad(padded))

    def check_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = sha1_signature(self._token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), msg_signature.encode("utf-8")):
            raise WeComCryptoError("signature")

    def _unframe(self, plain: bytes) -> str:
        if len(plain) < 20:
            raise WeComCryptoError("framing")
        (msg_len,) = struct.unpack(">I", plain[16:20])
        if 20 + msg_len > len(plain):
            raise WeComCryptoError("framing")
        msg, receive_id = plain[20 : 20 + msg_len], plain[20 + msg_len :]
        if not hmac.compare_digest(receive_id, self.corp_id.encode("utf-8")):
            raise WeComCryptoError("receiveid")
        try:
            return msg.decode("utf-8")
        except UnicodeDecodeError:
            raise WeComCryptoError("framing") from None

    # -- outbound --------------------------------------------------------

    def encrypt(self, plain_xml: str, nonce: str, timestamp: str, random16: bytes | None = None) -> tuple[str, str]:
        """Encrypt a message (XML for the app, JSON for the AI bot); returns (encrypt_b64, msg_signature).
        `random16` is the 16-byte prefix, fresh and random unless given (the vectors fix it)."""
        msg = plain_xml.encode("utf-8")
        prefix = random16 or "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(16)).encode()
        if len(prefix) != 16:
            raise ValueError("random16 must be 16 bytes")
        plain = prefix + struct.pack(">I", len(msg)) + msg + self.corp_id.encode("utf-8")
        pad = BLOCK - len(plain) % BLOCK  # 1..32; a full block when already aligned
        encryptor = self._cipher().encryptor()
        ciphertext = encryptor.update(plain + bytes([pad]) * pad) + encryptor.finalize()
        encrypt_b64 = base64.b64encode(ciphertext).decode("ascii")
        return encrypt_b64, sha1_signature(self._token, timestamp, nonce, encrypt_b64)

    def passive_reply_xml(self, reply_plain_xml: str, nonce: str, timestamp: str) -> str:
        """The encrypted envelope to return as the POST response body."""
        encrypt_b64, signature = self.encrypt(reply_plain_xml, nonce, timestamp)
        return (
            "<xml>\n"
            f"<Encrypt>{cdata(encrypt_b64)}</Encrypt>\n"
            f"<MsgSignature>{cdata(signature)}</MsgSignature>\n"
            f"<TimeStamp>{timestamp}</TimeStamp>\n"
            f"<Nonce>{cdata(nonce)}</Nonce>\n"
            "</xml>"
        )

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))


def _unpad(padded: bytes) -> bytes:
    """Strict PKCS#7 for a 32-byte block: pad in 1..32 and all pad bytes equal."""
    pad = padded[-1]
    if not 1 <= pad <= BLOCK or pad > len(padded):
        raise WeComCryptoError("padding")
    if padded[-pad:] != bytes([pad]) * pad:
        raise WeComCryptoError("padding")
    return padded[:-pad]


def text_reply_xml(to_user: str, from_corp: str, content: str, create_time: int) -> str:
    """Plaintext XML of a passive text reply (before encryption)."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_corp)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )
