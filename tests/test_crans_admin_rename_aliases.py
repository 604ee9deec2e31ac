"""The Postfix map of renamed lists' old addresses, as rename_list keeps it."""

from crans_admin.rename.aliases import alias_lines, read_map, update_map, write_map

A = "tresorier@lists.crans.org"
B = "tresorerie@lists.crans.org"
C = "finances@lists.crans.org"
# The addresses Mailman core gives a list, besides its posting address.
ADDRESS_SUFFIXES = "-bounces -confirm -join -leave -owner -request -subscribe -unsubscribe"


def entries(path) -> dict[str, str]:
    lines = read_map(path).splitlines()
    return dict(line.split(" ") for line in lines if line and not line.startswith("#"))


def test_every_address_of_the_list_goes_to_the_new_one():
    assert alias_lines(A, B) == [
        f"tresorier{suffix}@lists.crans.org tresorerie{suffix}@lists.crans.org"
        for suffix in ("", *ADDRESS_SUFFIXES.split())
    ]


def test_chains_rename_back_and_repetition(tmp_path):
    path = tmp_path / "mailman-renamed"
    assert read_map(path) is None
    update_map(path, A, B)
    assert entries(path)[A] == B
    assert f"virtual_alias_maps = hash:{path}" in read_map(path)
    once = read_map(path)
    update_map(path, A, B)
    assert read_map(path) == once  # a resumed step changes nothing more
    update_map(path, B, C)
    assert (entries(path)[A], entries(path)[B]) == (C, C)  # straight to the latest name
    update_map(path, C, A)  # back to the first name: it is a list's again
    assert A not in entries(path)
    assert (entries(path)[B], entries(path)[C]) == (A, A)
    assert len(entries(path)) == 2 * 9


def test_the_map_is_put_back_as_it_was(tmp_path):
    path = tmp_path / "mailman-renamed"
    write_map(path, "# kept\nold@x.org new@x.org\n")
    before = read_map(path)
    update_map(path, A, B)
    write_map(path, before)
    assert read_map(path) == before
    write_map(path, None)
    assert not path.exists()
