"""The names of decrypted files and the paths an upload or archive member may be written to."""

from pathlib import PurePosixPath

import pytest

from recordings.naming import (
    MAX_COMPONENT_BYTES,
    MAX_PATH_BYTES,
    NameRefused,
    UniqueNames,
    output_name,
    safe_relative_path,
    unique_names,
    upload_name,
)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("call.bin", "call"),
        ("call.BIN", "call"),
        ("call.Bin", "call"),
        ("call.wav.bin", "call.wav"),
        ("call.wav", "call.wav"),
        ("call", "call"),
        ("call.bin.wav", "call.bin.wav"),
        ("callbin", "callbin"),
        (".bin", ".bin"),
        ("2024/01/call.bin", "2024/01/call"),
        ("2024.bin/call", "2024.bin/call"),
        ("2024/.bin", "2024/.bin"),
    ],
)
def test_output_name_drops_a_final_bin_suffix_only(name, expected) -> None:
    assert output_name(name) == expected


@pytest.mark.parametrize(
    "name,expected",
    [
        ("call.bin", "call.bin"),
        ("2024/01/call.bin", "2024/01/call.bin"),
        ("2024\\01\\call.bin", "2024/01/call.bin"),
        ("./2024//01/./call.bin", "2024/01/call.bin"),
        ("2024/01/", "2024/01"),
        ("Anrufe/Müller 10:30.bin", "Anrufe/Müller 10:30.bin"),
        ("x" * MAX_COMPONENT_BYTES, "x" * MAX_COMPONENT_BYTES),
    ],
)
def test_safe_relative_path_keeps_relative_paths(name, expected) -> None:
    assert safe_relative_path(name) == PurePosixPath(expected)


@pytest.mark.parametrize(
    "name,reason",
    [
        ("/etc/passwd", "is an absolute path"),
        ("\\\\server\\share\\a.bin", "is an absolute path"),
        ("\\windows\\a.bin", "is an absolute path"),
        ("C:\\calls\\a.bin", "starts with a drive letter"),
        ("c:a.bin", "starts with a drive letter"),
        ("../a.bin", 'climbs out of its folder with ".."'),
        ("calls/../../a.bin", 'climbs out of its folder with ".."'),
        ("calls\\..\\..\\a.bin", 'climbs out of its folder with ".."'),
        ("..", 'climbs out of its folder with ".."'),
        ("", "names no file"),
        ("./", "names no file"),
        ("//", "is an absolute path"),
        ("a\x00.bin", "holds a control character"),
        ("a\n.bin", "holds a control character"),
        ("a\x7f.bin", "holds a control character"),
        ("a\x9b.bin", "holds a control character"),
        ("x" * (MAX_COMPONENT_BYTES + 1), f"longer than {MAX_COMPONENT_BYTES} bytes"),
        ("é" * 128, f"longer than {MAX_COMPONENT_BYTES} bytes"),
        ("/".join(["x" * 200] * 6), f"is longer than {MAX_PATH_BYTES} bytes"),
    ],
)
def test_safe_relative_path_refuses_names_that_escape_or_cannot_be_written(name, reason) -> None:
    with pytest.raises(NameRefused, match=reason) as refused:
        safe_relative_path(name)
    assert str(refused.value).startswith('The name "') and str(refused.value).endswith(".")
    assert isinstance(refused.value, ValueError)


def test_a_refused_name_is_quoted_with_control_characters_escaped_and_shortened() -> None:
    with pytest.raises(NameRefused) as refused:
        safe_relative_path("evil\x1b[2J\r\nname.bin")
    message = str(refused.value)
    assert "\x1b" not in message and "\r" not in message and "\n" not in message
    assert '"evil\\1B[2J\\0D\\0Aname.bin"' in message  # as every page shows it
    with pytest.raises(NameRefused) as refused:
        safe_relative_path("../" + "x" * 5000)
    assert len(str(refused.value)) < 300 and "…" in str(refused.value)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("call.bin", "call.bin"),
        ("C:\\Users\\ann\\calls\\call.bin", "call.bin"),
        ("/home/ann/call.bin", "call.bin"),
        ("calls/../call.bin", "call.bin"),
    ],
)
def test_upload_name_keeps_the_base_name(name, expected) -> None:
    assert upload_name(name) == expected


@pytest.mark.parametrize("name", ["", "..", "calls/..", "C:\\", "a\x00b", "x" * 256])
def test_upload_name_refuses_what_names_no_writable_file(name) -> None:
    with pytest.raises(NameRefused):
        upload_name(name)


def test_inputs_that_map_to_one_output_name_get_numbered_names() -> None:
    outputs = [output_name(name) for name in ["a.bin", "a", "A.BIN", "a.wav.bin", "a.wav", "calls/a.bin", "calls/a"]]
    assert unique_names(outputs) == ["a", "a (2)", "A (3)", "a.wav", "a (2).wav", "calls/a", "calls/a (2)"]


def test_a_file_and_a_folder_never_take_the_same_path() -> None:
    names = UniqueNames()
    assert names.take("calls") == "calls"
    assert names.take("calls/a") == "calls (2)/a"
    assert names.take("Calls/b") == "calls (2)/b"  # the same folder, whatever its case
    assert names.take("x/y") == "x/y"
    assert names.take("x") == "x (2)"
    assert names.take("calls (2)") == "calls (2) (2)"


def test_the_same_names_in_the_same_order_get_the_same_answers() -> None:
    paths = ["a", "a", "b/c", "b", "b/c", "B/C"]
    assert unique_names(paths) == unique_names(paths) == ["a", "a (2)", "b/c", "b (2)", "b/c (2)", "b/C (3)"]


def test_numbered_names_stay_within_the_file_system_limit() -> None:
    long = "x" * (MAX_COMPONENT_BYTES - 4) + ".wav"
    first, second = unique_names([long, long])
    assert first == long
    assert second.endswith(" (2).wav") and len(second.encode()) == MAX_COMPONENT_BYTES
