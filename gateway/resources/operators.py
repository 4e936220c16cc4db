"""Operators (操作人员, M7): the people who act, with job number, role and channels. The
register itself is `gateway.resources.operator_register`.

Passwords are kept only as scrypt hashes (`gateway.resources.passwords`). A successful login is
remembered in memory for a few minutes under a keyed digest of the credentials — not the
password — so that an API client sending HTTP Basic credentials with every request does not
pay half a second of scrypt each time; changing an operator drops every remembered login.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from gateway.identifiers import SafeText
from gateway.orders import ChannelId, OperatorId
from gateway.resources.access import Role

JobNumber = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,16}$")]
LOGIN_MEMORY_S = 300.0
WRONG_LOGIN = "wrong operator or password"


def _password_rules(value: SecretStr) -> SecretStr:
    if not 8 <= len(value.get_secret_value()) <= 128:
        raise ValueError("password must be 8 to 128 characters")
    return value


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, hide_input_in_errors=True)

    id: OperatorId
    job_number: JobNumber
    name: SafeText = Field(min_length=1, max_length=60)
    role: Role
    password: SecretStr
    channels: list[ChannelId] = Field(default_factory=list, max_length=100)

    _check_password = field_validator("password")(_password_rules)


class OperatorChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: SafeText | None = Field(None, min_length=1, max_length=60)
    role: Role | None = None
    active: bool | None = None
    channels: list[ChannelId] | None = Field(None, max_length=100)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    password: SecretStr

    _check_password = field_validator("password")(_password_rules)


@dataclass(frozen=True)
class Operator:
    id: str
    job_number: str
    name: str
    role: Role
    active: bool
    channels: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_number": self.job_number,
            "name": self.name,
            "role": self.role.value,
            "active": self.active,
            "channels": list(self.channels),
        }
