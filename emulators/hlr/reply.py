"""Rendering replies in the exact layout of the contract (`docs/dialects/huawei-mml.md`).

The gateway's parser reads these byte for byte, so the layout lives in one place. Rendering is
on the hot path of every command: the timestamp text is reused within a second and the reply
is assembled with one join.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from emulators.hlr.codes import ReturnCode

Fields = Sequence[tuple[str, str]]

END_LINE = "---    END"


class ReplyRenderer:
    """Renders replies of one NE; the `O&M #serial` increases with every reply it renders."""

    def __init__(self, ne_name: str, clock: Callable[[], float] = time.time) -> None:
        if not ne_name or not ne_name.isprintable() or " " in ne_name:
            raise ValueError("ne_name: expected a non-empty printable name without spaces")
        self.ne_name = ne_name
        self._clock = clock
        self._serial = 0
        self._second = -1
        self._header = ""

    def _header_for_now(self) -> str:
        second = int(self._clock())
        if second != self._second:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._header = f"+++    {self.ne_name}        {stamp}\n"
            self._second = second
        return self._header

    def render(self, echo: str, rc: ReturnCode, *, ok: bool, fields: Fields | None = None) -> str:
        """One complete reply, ending with `---    END` and a newline.

        `echo` must already be masked and printable; `ok` tells success (`1 report`) from
        failure (`0 report`, never a result block); `fields` (an LST) become the
        `NAME  =  value` block.
        """
        self._serial += 1
        parts = [
            self._header_for_now(),
            f"O&M    #{self._serial}\n%%{echo}%%\nRETCODE = {rc.code}  {rc.text}\n\n",
        ]
        if ok and fields is not None:
            parts.append("The result is as follows\n------------------------\n")
            parts.extend(f"{name}  =  {value}\n" for name, value in fields)
            parts.append("\n")
        parts.append("There is together 1 report\n" if ok else "There is together 0 report\n")
        parts.append(END_LINE + "\n")
        return "".join(parts)
