"""The emulator's MML reading: framing, strict parsing, masking, one-line echo."""

from __future__ import annotations

import pytest

from emulators.hlr.codes import CommandError, Outcome
from emulators.hlr.mml import (
    MAX_COMMAND_LENGTH,
    CommandFramer,
    Value,
    mask_secrets,
    parse,
    printable,
)


def test_parse_verb_object_and_typed_values() -> None:
    command = parse('ADD TPLSUB:HLRSN=1,IMSI="460001234567890",ISDN="8613800000001",TPLID=1;')
    assert command.name == "ADD TPLSUB"
    assert command.params == {
        "HLRSN": Value("1", quoted=False),
        "IMSI": Value("460001234567890", quoted=True),
        "ISDN": Value("8613800000001", quoted=True),
        "TPLID": Value("1", quoted=False),
    }


def test_verb_object_and_names_are_case_insensitive_values_are_not() -> None:
    command = parse('lst sub:hlrsn=1,isdn="86abc";')
    assert command.name == "LST SUB"
    assert command.params["ISDN"] == Value("86abc", quoted=True)


@pytest.mark.parametrize(
    ("text", "name"),
    [("LGO:;", "LGO"), ("LGI:HLRSN=1;", "LGI"), ("LST EMUFAULT:;", "LST EMUFAULT")],
)
def test_commands_without_object_or_parameters(text: str, name: str) -> None:
    assert parse(text).name == name


def test_spaces_around_separators_are_tolerated() -> None:
    command = parse('  MOD LCK : HLRSN = 1 , ISDN = "1" , IC = TRUE ;  ')
    assert command.name == "MOD LCK"
    assert command.params["IC"] == Value("TRUE", quoted=False)


def test_quoted_value_may_hold_spaces_and_commas() -> None:
    assert parse('LGI:OPNAME="a b,c";').params["OPNAME"].text == "a b,c"


@pytest.mark.parametrize(
    "text",
    [
        'ADD KI:IMSI="4600";extra',  # text after the terminating ;
        'ADD KI:IMSI="4600"',  # no terminating ;
        'ADD KI:IMSI="46"00";',  # a quote inside a value ends it early
        'ADD KI:IMSI="4600;',  # unterminated quote
        'ADD KI IMSI="4600";',  # no colon
        "ADD KI:IMSI=;",  # empty value
        'ADD KI:IMSI="1",IMSI="2";',  # repeated parameter
        'ADD KI:IMSI="1",;',  # dangling comma
        "ADD KI:IMSI=46-00;",  # bare value with a character outside [A-Za-z0-9_.]
        'ADD KI:1MSI="1";',  # name must start with a letter
        'ADD KI:IMSI="1";LST SUB:ISDN="1";',  # two commands on one line
        "ADD KI:" + "X" * MAX_COMMAND_LENGTH + ";",
    ],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(text)
    assert caught.value.outcome is Outcome.SYNTAX_ERROR


@pytest.mark.parametrize(
    "value", ["46;00", "46\\00", "46\n00", "46\r00", "46\t00", "46\x0000", "46\x1b00", "46\u2028"]
)
def test_forbidden_characters_inside_quotes_are_invalid_values(value: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(f'LST SUB:HLRSN=1,ISDN="{value}";')
    assert caught.value.outcome is Outcome.INVALID_VALUE
    assert "ISDN" in caught.value.detail


def test_mask_secrets_in_well_formed_command() -> None:
    text = 'ADD KI:IMSI="1",KIVALUE="465B5CE8",K4SNO=1,OPCVALUE="CD63CB71";'
    assert mask_secrets(text) == 'ADD KI:IMSI="1",KIVALUE="****",K4SNO=1,OPCVALUE="****";'
    assert mask_secrets('LGI:OPNAME="u",PWD="s;e,c";') == 'LGI:OPNAME="u",PWD="****";'


@pytest.mark.parametrize(
    "text",
    [
        'ADD KI:KIVALUE="465B5CE8,BAD;',  # unterminated quote
        "ADD KI:kivalue=465B5CE8;",  # bare, lower-case name
        'LGI:PWD = "465B5CE8" oops;',  # malformed after the value
        'LGI:OPNAME="u",NEWPWD="465B5CE8";',  # any name ending in PWD
    ],
)
def test_mask_secrets_in_malformed_command(text: str) -> None:
    assert "465B5CE8" not in mask_secrets(text)


def test_printable_keeps_the_echo_on_one_line() -> None:
    assert printable('A:X="a";') == 'A:X="a";'
    assert printable("a\nb\x1bc\u2028") == "a\\x0ab\\x1bc\\u2028"


def test_framer_splits_lines_and_accepts_crlf() -> None:
    framer = CommandFramer()
    assert framer.feed("LGO:;\r\nLST EMUFAULT:;\n") == ["LGO:;", "LST EMUFAULT:;"]


def test_framer_buffers_partial_lines_and_ignores_blank_lines() -> None:
    framer = CommandFramer()
    assert framer.feed("\n \r\nLST SUB:HLRSN=1,") == []
    assert framer.feed('ISDN="1"') == []
    assert framer.feed(";\n") == ['LST SUB:HLRSN=1,ISDN="1";']


def test_framer_joins_lines_without_semicolon_keeping_the_newline() -> None:
    framer = CommandFramer()
    assert framer.feed('LST SUB:HLRSN=1,\nISDN="1";\n') == ['LST SUB:HLRSN=1,\nISDN="1";']
    # so a newline smuggled into a quoted value is seen (and refused by the parser)
    [command] = framer.feed('LST SUB:ISDN="1\nRMV SUB:ISDN="2";\n')
    with pytest.raises(CommandError):
        parse(command)


def test_framer_gives_up_on_an_endless_line() -> None:
    framer = CommandFramer()
    commands = framer.feed("X" * (MAX_COMMAND_LENGTH + 1))
    assert len(commands) == 1
    assert framer.feed("LGO:;\n") == ["LGO:;"]
