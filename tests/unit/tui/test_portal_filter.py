import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.tui.model import PortalRole, format_account_id
from broker.tui.portal_filter import (
    Query,
    RoleFilter,
    Section,
    filter_roles,
    highlights,
    parse_query,
)

ROLES = [
    PortalRole(
        "111122223333",
        "payments-prod",
        "AWSReservedSSO_AdminAccess_1",
        "AdminAccess",
        email="payments-prod@example.com",
        tags={"env": "prod", "team": "payments"},
    ),
    PortalRole(
        "111122223333",
        "payments-prod",
        "AWSReservedSSO_ReadOnly_2",
        "ReadOnly",
        email="payments-prod@example.com",
        tags={"env": "prod", "team": "payments"},
    ),
    PortalRole(
        "444455556666",
        "payments-dev",
        "Developer",
        None,
        email="payments-dev@example.com",
        tags={"env": "dev", "team": "payments"},
    ),
    PortalRole(
        "777788889999",
        "analytics",
        "DataScientist",
        None,
        email="data@example.com",
        tags={"env": "prod", "team": "data"},
    ),
    PortalRole(
        "123456789012",
        "sandbox",
        "AWSReservedSSO_AdminAccess_3",
        "AdminAccess",
        email="sandbox@example.com",
        tags={"env": "dev"},
    ),
]


def names(shown) -> list[str]:
    return [f"{s.role.account_name}:{s.role.label}" for s in shown]


def test_empty_filter_shows_all_alphabetically() -> None:
    assert names(filter_roles(ROLES, "")) == [
        "analytics:DataScientist",
        "payments-dev:Developer",
        "payments-prod:AdminAccess",
        "payments-prod:ReadOnly",
        "sandbox:AdminAccess",
    ]


def test_fuzzy_over_name_and_role() -> None:
    assert names(filter_roles(ROLES, "pyprd")) == [
        "payments-prod:AdminAccess",
        "payments-prod:ReadOnly",
    ]
    assert names(filter_roles(ROLES, "pay admin")) == ["payments-prod:AdminAccess"]
    # one term never spans two fields: "devadmin" is not payments-dev + AdminAccess
    assert names(filter_roles(ROLES, "devadmin")) == []


def test_account_id_with_or_without_grouping() -> None:
    assert names(filter_roles(ROLES, "4444 5555")) == ["payments-dev:Developer"]
    assert names(filter_roles(ROLES, "4444-5555-6666")) == ["payments-dev:Developer"]
    # digits match the id contiguously, not as a scattered subsequence
    assert names(filter_roles(ROLES, "1357")) == []


def test_email_and_tag_values_are_searched() -> None:
    assert names(filter_roles(ROLES, "data@")) == ["analytics:DataScientist"]
    assert names(filter_roles(ROLES, "team=data")) == ["analytics:DataScientist"]
    assert names(filter_roles(ROLES, "env=prod !pay")) == ["analytics:DataScientist"]
    assert names(filter_roles(ROLES, "nokey=x")) == []


def test_exclusion() -> None:
    assert "payments-prod:ReadOnly" not in names(filter_roles(ROLES, "!readonly"))
    assert len(filter_roles(ROLES, "!readonly")) == 4


def test_an_arn_finds_its_account_and_role() -> None:
    arn = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_2"
    assert names(filter_roles(ROLES, arn)) == ["payments-prod:ReadOnly"]
    assumed = "arn:aws:sts::444455556666:assumed-role/Developer/alice@example.com"
    assert names(filter_roles(ROLES, assumed)) == ["payments-dev:Developer"]


def test_favourites_then_recent_then_all_each_row_once() -> None:
    favourites = [ROLES[4].key, ROLES[0].key]
    recent = [ROLES[0].key, ROLES[3].key]
    shown = filter_roles(ROLES, "", favourites, recent)
    assert [(s.section, s.favourite) for s in shown] == [
        (Section.FAVOURITE, 1),
        (Section.FAVOURITE, 2),
        (Section.RECENT, None),
        (Section.ALL, None),
        (Section.ALL, None),
    ]
    assert names(shown)[:3] == [
        "sandbox:AdminAccess",
        "payments-prod:AdminAccess",
        "analytics:DataScientist",
    ]
    # filtering keeps the favourite's number (the number is its slot, not its rank)
    only_second = RoleFilter(ROLES).apply(parse_query("payments-prod admin"), favourites, recent)
    assert [(s.section, s.favourite) for s in only_second] == [(Section.FAVOURITE, 2)]


def test_unknown_favourites_are_ignored() -> None:
    shown = filter_roles(ROLES, "", ["999999999999/Gone"], [])
    assert all(s.section is Section.ALL for s in shown)


def test_parse_query() -> None:
    assert parse_query("  ") == Query()
    assert parse_query("  ").empty
    q = parse_query("Pay !Dev env=Prod")
    assert q == Query(terms=("pay",), excludes=("dev",), tags=(("env", "prod"),))


def test_highlights_prefer_contiguous_then_subsequence() -> None:
    assert highlights("payments-prod", parse_query("prod")) == frozenset(range(9, 13))
    assert highlights("payments-prod", parse_query("pyd")) == frozenset({0, 2, 12})
    assert highlights("1111 2222 3333", parse_query("12222")) == frozenset({3, 5, 6, 7, 8})
    assert highlights("analytics", parse_query("zzz")) == frozenset()


@settings(max_examples=50)
@given(st.text(alphabet="abcdeprmonts-!= 0123", max_size=12))
def test_filtering_never_invents_rows_and_keeps_order(text: str) -> None:
    everything = filter_roles(ROLES, "")
    shown = filter_roles(ROLES, text)
    keys = [s.role.key for s in everything]
    positions = [keys.index(s.role.key) for s in shown]
    assert positions == sorted(positions)
    assert len({s.role.key for s in shown}) == len(shown)


def test_format_account_id() -> None:
    assert format_account_id("111122223333") == "1111 2222 3333"
    assert format_account_id("abc") == "abc"


@pytest.mark.parametrize("text", ["", "pay", "admin", "!dev", "env=prod", "zzz", "pay !admin"])
def test_the_filters_view_agrees_with_a_list_and_finds_each_role(text: str) -> None:
    """``apply`` answers a lazy view; it must read exactly as the list it stands for."""
    favourites = [ROLES[4].key, ROLES[1].key]
    recent = [ROLES[1].key, ROLES[2].key]
    index = RoleFilter(ROLES)
    view = index.apply(parse_query(text), favourites, recent)
    rows = list(view)
    assert len(view) == len(rows)
    assert [view[i] for i in range(-len(rows), 0)] == rows  # negative indices too
    with pytest.raises(IndexError):
        view[len(rows)]
    for position, shown in enumerate(rows):
        assert view.position(shown.role.key) == position
    shown_keys = {s.role.key for s in rows}
    for role in ROLES:
        if role.key not in shown_keys:
            assert view.position(role.key) is None
    assert view.account_count() == len({s.role.account_id for s in rows})
