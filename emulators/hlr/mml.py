"""The emulator's own reading of MML: framing lines into commands, parsing, masking the echo.

Deliberately independent of the gateway's codec (`adapters/`): two readings of one contract
catch each other's mistakes. The parser is strict where the contract is (quoted strings with
no `"`, `;`, `\\` or control characters; bare enumerations, booleans and numbers), and linear
in the length of its input (token regexes applied left to right, no backtracking between them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulators.hlr.codes import CommandError, Outcome

# A command longer than this is certainly not MML; the framer stops buffering and lets the
# parser refuse it rather than growing memory for a client that never sends `;`.
MAX_COMMAND_LENGTH = 8192

SECRET_NAMES = frozenset({"KIVALUE", "OPCVALUE", "PWD"})

_HEAD = re.compile(r"[ \t\n]*([A-Za-z][A-Za-z0-9]*)(?:[ \t]+([A-Za-z][A-Za-z0-9]*))?[ \t\n]*:")
_PARAM = re.compile(
    r'[ \t\n]*([A-Za-z][A-Za-z0-9]*)[ \t]*=[ \t]*(?:"([^"]*)"|([A-Za-z0-9_.]+))[ \t\n]*([,;])'
)
_END = re.compile(r"[ \t\n]*;[ \t\n]*\Z")
# Any secret-looking name, then its value up to the next separator (quoted values may hold
# separators). Matches even inside malformed commands: masking must not depend on parsing.
_SECRET = re.compile(r'(?i)((?:KIVALUE|OPCVALUE|PWD)[ \t]*=[ \t]*)("[^"]*"?|[^,;]*)')


@dataclass(frozen=True, slots=True)
class Value:
    """A parameter value as written: its text, and whether it was a quoted string."""

    text: str
    quoted: bool


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed command: verb and object upper-cased (object "" for `LGI:`), named values."""

    verb: str
    obj: str
    params: dict[str, Value]

    @property
    def name(self) -> str:
        """`ADD KI`, `LGI` — the key of the command table."""
        return f"{self.verb} {self.obj}" if self.obj else self.verb


def parse(text: str) -> Command:
    """Parse one complete command (ending with `;`).

    Raises `CommandError` with SYNTAX_ERROR for malformed text or a repeated parameter, and
    INVALID_VALUE for a quoted value holding `;`, `\\` or a control character.
    """
    if len(text) > MAX_COMMAND_LENGTH:
        raise CommandError(Outcome.SYNTAX_ERROR, "command too long")
    head = _HEAD.match(text)
    if head is None:
        raise CommandError(Outcome.SYNTAX_ERROR, "expected `VERB OBJECT:`")
    verb, obj = head.group(1).upper(), (head.group(2) or "").upper()
    pos = head.end()
    params: dict[str, Value] = {}
    if _END.match(text, pos):
        return Command(verb, obj, params)
    while True:
        param = _PARAM.match(text, pos)
        if param is None:
            raise CommandError(Outcome.SYNTAX_ERROR, f"malformed parameter at column {pos + 1}")
        name, quoted, bare, separator = param.groups()
        name = name.upper()
        if name in params:
            raise CommandError(Outcome.SYNTAX_ERROR, f"{name}: given twice")
        if quoted is None:
            params[name] = Value(bare, quoted=False)
        elif quoted.isprintable() and ";" not in quoted and "\\" not in quoted:
            params[name] = Value(quoted, quoted=True)
        else:
            raise CommandError(Outcome.INVALID_VALUE, f"{name}: forbidden character in value")
        pos = param.end()
        if separator == ";":
            if text[pos:].strip(" \t\n"):
                raise CommandError(Outcome.SYNTAX_ERROR, "text after the terminating `;`")
            return Command(verb, obj, params)


def mask_secrets(text: str) -> str:
    """The text with every KIVALUE/OPCVALUE/PWD value replaced by `"****"`.

    Works on raw, possibly malformed input, because the echo of a refused command must be
    masked as well as that of an accepted one.
    """
    return _SECRET.sub(r'\1"****"', text)


def printable(text: str) -> str:
    """The text with non-printable characters shown as `\\xNN`/`\\uNNNN`.

    The echo line must stay one line: a newline or line separator smuggled into a command
    must not be able to forge a `---    END` in the reply.
    """
    if text.isprintable():
        return text
    return "".join(
        ch
        if ch.isprintable()
        else (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        for ch in text
    )


class CommandFramer:
    """Turns the byte-stream of a session into commands.

    One command per line; a line without `;` is buffered and joined (with a newline, so a
    newline inside a quoted value is seen and refused) to the following lines until a line
    holding `;` completes it. `\\r\\n` is accepted, blank lines between commands are ignored.
    """

    def __init__(self) -> None:
        self._partial = ""
        self._pending: list[str] = []

    def feed(self, data: str) -> list[str]:
        """Add received text; return the commands it completes, in order."""
        data = self._partial + data
        lines = data.split("\n")
        self._partial = lines.pop()
        commands: list[str] = []
        for raw in lines:
            line = raw.rstrip("\r")
            if ";" in line:
                self._pending.append(line)
                commands.append("\n".join(self._pending).strip(" \t\n"))
                self._pending.clear()
            elif self._pending or line.strip():
                self._pending.append(line)
        if len(self._partial) + sum(len(p) for p in self._pending) > MAX_COMMAND_LENGTH:
            self._pending.append(self._partial)
            commands.append("\n".join(self._pending))
            self._pending.clear()
            self._partial = ""
        return commands
