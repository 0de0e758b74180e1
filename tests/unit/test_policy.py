"""The authorization policy (`GATEWAY_POLICY__FILE`): the file format, its errors, and decisions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from invitation_gateway.callers.identity import DEV_CALLER, Caller
from invitation_gateway.callers.policy import Action, Policy, PolicyFileError
from invitation_gateway.domain.invitations import InvitationTarget, TargetKind

# The README's example: a Clerk org admin (both session-token versions), the BFF, read-only support.
README_POLICY = """\
[[allow]]                                  # a Clerk org admin invites members into their own org
callers = ["jwt"]                          # (session token v2: o.id / o.rol, no "org:" prefix)
claims = { "o.rol" = ["admin"] }
actions = ["read", "create", "revoke"]
targets = [{ kind = "CLERK_ORGANIZATION", id = "{o.id}" }]
roles = ["org:member"]

[[allow]]                                  # the same with session token v1: org_id / org_role
callers = ["jwt"]
claims = { org_role = ["org:admin"] }
actions = ["read", "create", "revoke"]
targets = [{ kind = "CLERK_ORGANIZATION", id = "{org_id}" }]
roles = ["org:member"]

[[allow]]                                  # the BFF may do everything in one directory
callers = ["api_key:bff"]
actions = ["read", "create", "revoke"]
targets = [{ kind = "CONDUCTORONE_DIRECTORY", id = "2fQz", connection = "default" }]
roles = ["*"]

[[allow]]                                  # support reads everything, creates and revokes nothing
callers = ["api_key:support"]
actions = ["read"]
targets = [
  { kind = "CONDUCTORONE_DIRECTORY" },
  { kind = "CLERK_APPLICATION" },
  { kind = "CLERK_ORGANIZATION" },
]
"""

ACTIONS: tuple[Action, ...] = ("read", "create", "revoke")
ORG_A = InvitationTarget(TargetKind.CLERK_ORGANIZATION, "org_a")
ORG_B = InvitationTarget(TargetKind.CLERK_ORGANIZATION, "org_b")
DIRECTORY = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "2fQz")
OTHER_DIRECTORY = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "9xYw")
APPLICATION = InvitationTarget(TargetKind.CLERK_APPLICATION, None)
BFF = Caller("api_key", "bff")
SUPPORT = Caller("api_key", "support")


def jwt(sub: str = "user_1", **claims: Any) -> Caller:
    return Caller("jwt", sub, {"sub": sub, **claims})


def v2_token(org: str = "org_a", rol: str = "admin") -> Caller:
    return jwt(o={"id": org, "rol": rol, "slg": "acme"})


def v1_token(org: str = "org_a", role: str = "org:admin") -> Caller:
    return jwt(org_id=org, org_role=role, org_slug="acme")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Policy:
    return Policy.load(write(tmp_path, text))


def failure(tmp_path: Path, text: str) -> str:
    with pytest.raises(PolicyFileError) as caught:
        load(tmp_path, text)
    return str(caught.value)


def rule(
    *,
    callers: str = '["jwt"]',
    actions: str = '["read"]',
    targets: str = '[{ kind = "CLERK_ORGANIZATION", id = "{o.id}" }]',
    more: str = "",
) -> str:
    return f"[[allow]]\ncallers = {callers}\nactions = {actions}\ntargets = {targets}\n{more}"


@pytest.fixture
def readme(tmp_path: Path) -> Policy:
    return load(tmp_path, README_POLICY)


# -- the three examples -------------------------------------------------------------------------


@pytest.mark.parametrize("admin", [v2_token(), v1_token()], ids=["v2", "v1"])
def test_org_admin_manages_members_of_own_org(readme: Policy, admin: Caller) -> None:
    """A Clerk org admin (either token version) reads, revokes and invites `org:member` in their org."""
    assert readme.allows(admin, "read", ORG_A)
    assert readme.allows(admin, "revoke", ORG_A)
    assert readme.allows(admin, "create", ORG_A, ["org:member"])
    assert readme.allows(admin, "create", ORG_A)


@pytest.mark.parametrize("admin", [v2_token(), v1_token()], ids=["v2", "v1"])
def test_org_admin_cannot_invite_admins(readme: Policy, admin: Caller) -> None:
    """An org admin may not grant `org:admin`, a role the rule does not list."""
    assert not readme.allows(admin, "create", ORG_A, ["org:admin"])


@pytest.mark.parametrize("admin", [v2_token(), v1_token()], ids=["v2", "v1"])
def test_org_admin_cannot_reach_another_org(readme: Policy, admin: Caller) -> None:
    """An org admin can do nothing in an organization other than the token's active one."""
    assert not any(readme.allows(admin, action, ORG_B) for action in ACTIONS)
    assert not readme.allows(admin, "create", ORG_B, ["org:member"])


@pytest.mark.parametrize("admin", [v2_token(), v1_token()], ids=["v2", "v1"])
def test_org_admin_rule_is_about_organizations_only(readme: Policy, admin: Caller) -> None:
    """The org-admin rule grants nothing in the application or in a directory of the same id."""
    same_id = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "org_a")
    for target in (APPLICATION, DIRECTORY, same_id):
        assert not any(readme.allows(admin, action, target) for action in ACTIONS)


def test_bff_does_everything_in_its_directory(readme: Policy) -> None:
    """`api_key:bff` reads, revokes and creates with any roles in its directory on `default`."""
    assert readme.allows(BFF, "read", DIRECTORY)
    assert readme.allows(BFF, "revoke", DIRECTORY)
    assert readme.allows(BFF, "create", DIRECTORY, ["admin", "viewer"])


def test_bff_is_confined_to_its_directory(readme: Policy) -> None:
    """The BFF can do nothing in another directory, in Clerk, or on another connection."""
    on_emea = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "2fQz", "emea")
    for target in (OTHER_DIRECTORY, on_emea, ORG_A, APPLICATION):
        assert not any(readme.allows(BFF, action, target) for action in ACTIONS)


def test_support_reads_everything(readme: Policy) -> None:
    """`api_key:support` reads every kind of target, whatever its id or connection."""
    on_emea = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "9xYw", "emea")
    for target in (DIRECTORY, on_emea, ORG_A, ORG_B, APPLICATION):
        assert readme.allows(SUPPORT, "read", target)


def test_support_creates_and_revokes_nothing(readme: Policy) -> None:
    """The read-only support key can neither create nor revoke, even with no roles asked."""
    for target in (DIRECTORY, ORG_A, APPLICATION):
        assert not readme.allows(SUPPORT, "create", target)
        assert not readme.allows(SUPPORT, "revoke", target)


# -- escalation attempts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "member", [v2_token(rol="member"), v1_token(role="org:member")], ids=["v2", "v1"]
)
def test_org_member_who_is_not_admin_is_denied(readme: Policy, member: Caller) -> None:
    """A plain member of the organization cannot read, invite or revoke in it."""
    assert not any(readme.allows(member, action, ORG_A) for action in ACTIONS)


@pytest.mark.parametrize(
    "caller",
    [
        jwt(),
        jwt(o={"rol": "admin"}),
        jwt(org_role="org:admin"),
        jwt(o="org_a"),
        jwt(o=None),
    ],
    ids=["no org", "v2 without id", "v1 without org_id", "o is a string", "o is null"],
)
def test_token_without_the_org_claim_is_denied(readme: Policy, caller: Caller) -> None:
    """A token with no (or a partial) active-organization claim matches no org rule."""
    for target in (ORG_A, InvitationTarget(TargetKind.CLERK_ORGANIZATION, None)):
        assert not any(readme.allows(caller, action, target) for action in ACTIONS)


def test_mixed_token_versions_do_not_combine(readme: Policy) -> None:
    """Admin in one claim form and another org in the other form reaches neither's org by mixing."""
    mixed = jwt(o={"id": "org_b", "rol": "member"}, org_id="org_a", org_role="org:member")
    assert not readme.allows(mixed, "read", ORG_A)
    assert not readme.allows(mixed, "read", ORG_B)


def test_org_rule_never_matches_a_target_without_id(readme: Policy) -> None:
    """A rule naming an id (even by placeholder) does not match an organization target with none."""
    assert not readme.allows(
        v2_token(), "read", InvitationTarget(TargetKind.CLERK_ORGANIZATION, None)
    )


@pytest.mark.parametrize("name", ["bff2", "bf", "BFF", "support", "bff "])
def test_other_api_key_names_are_not_the_bff(readme: Policy, name: str) -> None:
    """Only the key named exactly `bff` gets the BFF's rights."""
    key = Caller("api_key", name)
    assert not readme.allows(key, "create", DIRECTORY)
    assert not readme.allows(key, "revoke", DIRECTORY)


def test_a_jwt_whose_subject_is_a_key_name_is_not_that_key(readme: Policy) -> None:
    """A token with `sub` = "bff" (or with an api_key claim) is still a JWT, not `api_key:bff`."""
    impostor = Caller("jwt", "bff", {"sub": "bff", "kind": "api_key", "name": "bff"})
    assert not any(readme.allows(impostor, action, DIRECTORY) for action in ACTIONS)


def test_any_api_key_pattern_matches_keys_but_not_tokens(tmp_path: Path) -> None:
    """`api_key:*` admits every API key, but neither a JWT nor the development caller."""
    policy = load(
        tmp_path, rule(callers='["api_key:*"]', targets='[{ kind = "CLERK_APPLICATION" }]')
    )
    assert policy.allows(Caller("api_key", "anything"), "read", APPLICATION)
    assert policy.allows(BFF, "read", APPLICATION)
    assert not policy.allows(jwt(), "read", APPLICATION)
    assert not policy.allows(jwt(sub="api_key:bff"), "read", APPLICATION)
    assert not policy.allows(DEV_CALLER, "read", APPLICATION)


def test_jwt_pattern_matches_tokens_but_not_keys_or_dev(tmp_path: Path) -> None:
    """`jwt` admits any verified token, and neither an API key nor the development caller."""
    policy = load(tmp_path, rule(targets='[{ kind = "CLERK_APPLICATION" }]'))
    assert policy.allows(jwt(), "read", APPLICATION)
    assert not policy.allows(BFF, "read", APPLICATION)
    assert not policy.allows(DEV_CALLER, "read", APPLICATION)


def test_dev_pattern_matches_only_the_development_caller(tmp_path: Path) -> None:
    """`dev` admits the development caller (authentication disabled) and nobody else."""
    policy = load(tmp_path, rule(callers='["dev"]', targets='[{ kind = "CLERK_APPLICATION" }]'))
    assert policy.allows(DEV_CALLER, "read", APPLICATION)
    assert not policy.allows(jwt(sub="dev"), "read", APPLICATION)
    assert not policy.allows(Caller("api_key", "dev"), "read", APPLICATION)


@pytest.mark.parametrize("text", ["", "# nothing allowed yet\n", "allow = []\n"])
def test_empty_policy_denies_everything(tmp_path: Path, text: str) -> None:
    """With no rule, nobody may do anything anywhere (deny by default)."""
    policy = load(tmp_path, text)
    for caller in (v2_token(), BFF, SUPPORT, DEV_CALLER):
        for target in (ORG_A, DIRECTORY, APPLICATION):
            assert not any(policy.allows(caller, action, target) for action in ACTIONS)


def test_policy_without_rules_denies_everything() -> None:
    """`Policy()` is the empty policy: everything denied."""
    assert not Policy().allows(DEV_CALLER, "read", APPLICATION)


@pytest.mark.parametrize(
    "roles",
    [["org:member", "org:admin"], ["org:admin", "org:member"], ["org:member", "org:billing"]],
)
def test_every_requested_role_must_be_allowed(readme: Policy, roles: list[str]) -> None:
    """A create asking for several roles is denied when any one of them is not allowed."""
    assert not readme.allows(v2_token(), "create", ORG_A, roles)


def test_roles_of_two_rules_do_not_add_up(tmp_path: Path) -> None:
    """Two rules allowing one role each do not together allow a create granting both."""
    member = rule(actions='["create"]', more='roles = ["org:member"]\n')
    billing = rule(actions='["create"]', more='roles = ["org:billing"]\n')
    policy = load(tmp_path, member + "\n" + billing)
    assert policy.allows(v2_token(), "create", ORG_A, ["org:member"])
    assert policy.allows(v2_token(), "create", ORG_A, ["org:billing"])
    assert not policy.allows(v2_token(), "create", ORG_A, ["org:member", "org:billing"])


def test_a_rule_without_roles_creates_only_without_roles(tmp_path: Path) -> None:
    """Omitted `roles` lets a rule create invitations granting no role, and none with a role."""
    policy = load(tmp_path, rule(actions='["create", "revoke"]'))
    assert policy.allows(v2_token(), "create", ORG_A)
    assert not policy.allows(v2_token(), "create", ORG_A, ["org:member"])
    assert policy.allows(v2_token(), "revoke", ORG_A)


def test_a_rule_for_reads_does_not_allow_writes(tmp_path: Path) -> None:
    """The actions of a rule bound it: a read rule with `roles = ["*"]` still creates nothing."""
    policy = load(tmp_path, rule(more='roles = ["*"]\n'))
    assert policy.allows(v2_token(), "read", ORG_A)
    assert not policy.allows(v2_token(), "create", ORG_A)
    assert not policy.allows(v2_token(), "revoke", ORG_A)


def test_connection_must_match_when_the_rule_names_one(tmp_path: Path) -> None:
    """A target on another connection does not match a rule pinned to `default`."""
    policy = load(
        tmp_path,
        rule(
            callers='["api_key:bff"]',
            targets='[{ kind = "CONDUCTORONE_DIRECTORY", connection = "default" }]',
        ),
    )
    assert policy.allows(BFF, "read", DIRECTORY)
    assert policy.allows(BFF, "read", OTHER_DIRECTORY)
    emea = InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "2fQz", "emea")
    assert not policy.allows(BFF, "read", emea)


def test_a_rule_without_connection_matches_every_connection(tmp_path: Path) -> None:
    """An omitted `connection` means any connection."""
    policy = load(
        tmp_path,
        rule(
            callers='["api_key:bff"]', targets='[{ kind = "CONDUCTORONE_DIRECTORY", id = "2fQz" }]'
        ),
    )
    assert policy.allows(
        BFF, "read", InvitationTarget(TargetKind.CONDUCTORONE_DIRECTORY, "2fQz", "emea")
    )


@pytest.mark.parametrize("value", [123, 1.5, True, ["org_a"], {"id": "org_a"}, None])
def test_placeholder_with_non_string_claim_matches_nothing(tmp_path: Path, value: object) -> None:
    """`{o.id}` whose claim is not a string matches no target, not even its printed form."""
    policy = load(tmp_path, rule())
    caller = jwt(o={"id": value})
    for target_id in (str(value), "org_a", "", "None", "123"):
        target = InvitationTarget(TargetKind.CLERK_ORGANIZATION, target_id)
        assert not policy.allows(caller, "read", target)


def test_placeholder_may_sit_inside_literal_text(tmp_path: Path) -> None:
    """`id = "org_{tenant}"` substitutes the claim into the literal text."""
    policy = load(tmp_path, rule(targets='[{ kind = "CLERK_ORGANIZATION", id = "org_{tenant}" }]'))
    assert policy.allows(jwt(tenant="a"), "read", ORG_A)
    assert not policy.allows(jwt(tenant="b"), "read", ORG_A)
    assert not policy.allows(jwt(), "read", InvitationTarget(TargetKind.CLERK_ORGANIZATION, "org_"))


@pytest.mark.parametrize(
    ("allowed", "claims", "expected"),
    [
        ("[true]", {"email_verified": True}, True),
        ("[true]", {"email_verified": "true"}, False),
        ("[true]", {"email_verified": 1}, False),
        ("[1]", {"email_verified": True}, False),
        ("[1]", {"email_verified": 1}, True),
        ('["admin"]', {"email_verified": ["admin"]}, False),
        ('["admin"]', {}, False),
        ('["admin"]', {"email_verified": None}, False),
    ],
)
def test_claims_compare_by_equality(
    tmp_path: Path, allowed: str, claims: Mapping[str, Any], expected: bool
) -> None:
    """A claim matches when it equals an allowed value (booleans are not numbers); missing never does."""
    policy = load(
        tmp_path,
        rule(
            targets='[{ kind = "CLERK_APPLICATION" }]',
            more=f"claims = {{ email_verified = {allowed} }}\n",
        ),
    )
    assert policy.allows(jwt(**claims), "read", APPLICATION) is expected


def test_every_claim_condition_must_hold(tmp_path: Path) -> None:
    """A rule with two claim conditions needs both."""
    claims = 'claims = { "o.rol" = ["admin"], email_verified = [true] }\n'
    policy = load(tmp_path, rule(more=claims))
    assert policy.allows(jwt(o={"id": "org_a", "rol": "admin"}, email_verified=True), "read", ORG_A)
    assert not policy.allows(jwt(o={"id": "org_a", "rol": "admin"}), "read", ORG_A)


def test_unquoted_dotted_claim_path_means_the_same(tmp_path: Path) -> None:
    """`claims = { o.rol = [...] }` (a nested table in TOML) is the dotted path `"o.rol"`."""
    policy = load(tmp_path, rule(more='claims = { o.rol = ["admin"] }\n'))
    assert policy.allows(v2_token(), "read", ORG_A)
    assert not policy.allows(v2_token(rol="member"), "read", ORG_A)


def test_claims_rule_never_matches_an_api_key(tmp_path: Path) -> None:
    """API keys carry no claims, so a rule with claim conditions never admits one."""
    policy = load(
        tmp_path,
        rule(
            callers='["api_key:*"]',
            targets='[{ kind = "CLERK_APPLICATION" }]',
            more='claims = { "o.rol" = ["admin"] }\n',
        ),
    )
    assert not policy.allows(BFF, "read", APPLICATION)


# -- file errors --------------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    """A policy file that does not exist is an error naming its path."""
    path = tmp_path / "nowhere.toml"
    with pytest.raises(PolicyFileError, match="does not exist") as caught:
        Policy.load(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_invalid_toml_names_line_and_column(tmp_path: Path) -> None:
    """A TOML syntax error is reported with the path, line and column, not as a crash."""
    message = failure(tmp_path, '[[allow]]\ncallers = ["jwt"]\nactions = [read]\n')
    assert message.startswith(f"{tmp_path / 'policy.toml'}:3:12: invalid TOML: ")


def test_toml_ending_too_early_names_the_last_line(tmp_path: Path) -> None:
    """A file cut off mid-value is reported at its last line."""
    message = failure(tmp_path, '[[allow]]\ncallers = ["jwt"')
    assert message == f"{tmp_path / 'policy.toml'}:2: invalid TOML: Unclosed array"


def test_unreadable_path_is_an_error(tmp_path: Path) -> None:
    """A path that cannot be read (a directory) is an error naming it."""
    with pytest.raises(PolicyFileError, match="cannot read the policy file") as caught:
        Policy.load(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: ")


def test_non_utf8_file_is_an_error(tmp_path: Path) -> None:
    """A file that is not UTF-8 text is an error naming the path."""
    path = tmp_path / "policy.toml"
    path.write_bytes(b"\xff\xfe[[allow]]")
    with pytest.raises(PolicyFileError, match="not UTF-8"):
        Policy.load(path)


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (rule(callers='["root"]'), 2, "`callers`, item 1: unknown caller `root`"),
        (rule(callers='["jwt:user_1"]'), 2, "unknown caller `jwt:user_1`"),
        (rule(callers='["api_key:"]'), 2, "unknown caller `api_key:`"),
        (rule(callers='["api_key:BFF"]'), 2, "unknown caller `api_key:BFF`"),
        (rule(callers='["api_key:b*"]'), 2, "unknown caller `api_key:b*`"),
        (rule(callers='["JWT"]'), 2, "unknown caller `JWT`"),
        (rule(callers="[]"), 2, "`callers`: must not be empty"),
        (
            rule(actions='["read", "delete"]'),
            3,
            "`actions`, item 2: Input should be 'read', 'create' or 'revoke' (got 'delete')",
        ),
        (rule(actions="[]"), 3, "`actions`: must not be empty"),
        (rule(targets='[{ kind = "CLERK_ORG" }]'), 4, "`targets`, item 1, `kind`: Input should be"),
        (rule(targets="[]"), 4, "`targets`: must not be empty"),
        (
            rule(targets='[{ kind = "CLERK_APPLICATION", id = "x" }]'),
            4,
            "a CLERK_APPLICATION target has no id",
        ),
        (rule(targets='[{ kind = "CLERK_ORGANIZATION", id = "" }]'), 4, "an id must not be empty"),
        (
            rule(targets='[{ kind = "CLERK_ORGANIZATION", id = "{o.id" }]'),
            4,
            "unbalanced brace in `{o.id`",
        ),
        (rule(targets='[{ kind = "CLERK_ORGANIZATION", id = "o.id}" }]'), 4, "unbalanced brace"),
        (rule(targets='[{ kind = "CLERK_ORGANIZATION", id = "{}" }]'), 4, "bad placeholder `{}`"),
        (
            rule(targets='[{ kind = "CLERK_ORGANIZATION", id = "{o..id}" }]'),
            4,
            "bad placeholder `{o..id}`",
        ),
        (rule(targets='[{ kind = "CLERK_ORGANIZATION", id = "{o id}" }]'), 4, "bad placeholder"),
        (rule(targets='[{ kind = "CLERK_ORGANIZATION", id = 5 }]'), 4, "an id is a string"),
        (
            rule(targets='[{ kind = "CLERK_APPLICATION", connection = "Prod" }]'),
            4,
            "`Prod` is not a connection name",
        ),
        (
            rule(targets='[{ kind = "CLERK_APPLICATION", ids = "x" }]'),
            4,
            "`targets`, item 1, `ids`: unknown key",
        ),
        (rule(more="roles = []\n"), 5, "`roles`: must not be empty: omit `roles`"),
        (rule(more='roles = [" "]\n'), 5, "a role must not be blank"),
        (rule(more='claims = { "o.rol" = [] }\n'), 5, "`claims`, `o.rol`: must not be empty"),
        (rule(more='claims = { "a..b" = ["x"] }\n'), 5, "`a..b` is not a dotted claim path"),
        (
            rule(more="claims = { x = [[1]] }\n"),
            5,
            "an allowed claim value is a string, a number or a boolean",
        ),
        (
            rule(more='actoins = ["read"]\n'),
            5,
            "`actoins`: unknown key (known keys: callers, claims, actions, targets, roles)",
        ),
        (
            '[[allow]]\ncallers = ["jwt"]\ntargets = [{ kind = "CLERK_APPLICATION" }]\n',
            1,
            "`actions` is required",
        ),
    ],
)
def test_rule_errors_name_path_rule_and_line(
    tmp_path: Path, text: str, line: int, expected: str
) -> None:
    """Every kind of bad rule is refused with the path, the rule number and the line."""
    message = failure(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'policy.toml'}:{line}: [[allow]] rule 1: ")
    assert expected in message


def test_errors_of_a_later_rule_name_its_number_and_line(tmp_path: Path) -> None:
    """A problem in the third rule names rule 3 and a line inside it."""
    good = rule(targets='[{ kind = "CLERK_APPLICATION" }]')
    text = good + "\n" + good + "\n" + rule(actions='["write"]')
    message = failure(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'policy.toml'}:13: [[allow]] rule 3: `actions`")


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    """Every problem of every rule comes in one error, one line each, in file order."""
    text = rule(callers='["root"]') + "\n" + rule(actions="[]", targets="[]")
    lines = failure(tmp_path, text).splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        "[[allow]] rule 1",
        "[[allow]] rule 2",
        "[[allow]] rule 2",
    ]
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in lines] == ["2", "8", "9"]


def test_rules_as_an_inline_array_are_numbered_without_line(tmp_path: Path) -> None:
    """Rules written as `allow = [...]` are still named by number, with no line to point at."""
    text = 'allow = [{ callers = ["jwt"], actions = ["read"], targets = [] }]\n'
    assert failure(tmp_path, text) == (
        f"{tmp_path / 'policy.toml'}: [[allow]] rule 1: `targets`: must not be empty"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deny = []\n", ":1: unknown key `deny`: a policy holds only [[allow]] rules"),
        ('[allow]\ncallers = ["jwt"]\n', ":1: write each rule as an [[allow]] table"),
        ("allow = 3\n", ":1: write each rule as an [[allow]] table"),
        ('allow = ["jwt"]\n', ":1: write each rule as an [[allow]] table"),
    ],
)
def test_top_level_errors_name_path_and_line(tmp_path: Path, text: str, expected: str) -> None:
    """Anything but [[allow]] tables at the top level is refused with the path and line."""
    assert failure(tmp_path, text).startswith(f"{tmp_path / 'policy.toml'}{expected}")


def test_readme_example_loads(tmp_path: Path) -> None:
    """The README's example policy is valid."""
    assert repr(load(tmp_path, README_POLICY)) == "<Policy: 4 rules>"


SUB_TABLES = """\
[[allow]]
callers = ["jwt"]
actions = ["read"]

[allow.claims]
"o.rol" = ["admin"]

[[allow.targets]]
kind = "CLERK_ORGANIZATION"
id = "{o.id}"

[[allow]]
callers = ["api_key:bff"]
actions = ["read"]

[[allow.targets]]
kind = "CONDUCTORONE_DIRECTORY"
id = "2fQz"
"""


def test_rules_may_be_written_with_sub_tables(tmp_path: Path) -> None:
    """`[allow.claims]` and `[[allow.targets]]` sub-tables are the same rules as inline tables."""
    policy = load(tmp_path, SUB_TABLES)
    assert policy.allows(v2_token(), "read", ORG_A)
    assert not policy.allows(v2_token(rol="member"), "read", ORG_A)
    assert policy.allows(BFF, "read", DIRECTORY)


def test_error_in_a_sub_table_points_at_it(tmp_path: Path) -> None:
    """A bad `[[allow.targets]]` entry is reported at that sub-table's line, under its rule."""
    message = failure(tmp_path, SUB_TABLES.replace('id = "2fQz"', 'id = "{o.id"'))
    assert message.startswith(f"{tmp_path / 'policy.toml'}:16: [[allow]] rule 2: `targets`, item 1")


@pytest.mark.parametrize("admin", [v2_token(), v1_token()], ids=["v2", "v1"])
def test_a_caller_reaches_the_connections_its_rules_name(readme: Policy, admin: Caller) -> None:
    """Which connections the `connections` query shows: a rule's target kinds and connection
    (any when omitted), for a caller the rule admits with matching claims."""
    c1 = (TargetKind.CONDUCTORONE_DIRECTORY,)
    clerk = (TargetKind.CLERK_APPLICATION, TargetKind.CLERK_ORGANIZATION)
    assert readme.reaches(BFF, c1, "default")
    assert not readme.reaches(BFF, c1, "emea")  # its rule names the `default` connection
    assert not readme.reaches(BFF, clerk, "default")
    assert readme.reaches(admin, clerk, "staging")  # no connection in its rule: any
    assert not readme.reaches(admin, c1, "default")
    assert not readme.reaches(v2_token(rol="member"), clerk, "default")
    assert readme.reaches(SUPPORT, c1, "emea")
    assert not readme.reaches(DEV_CALLER, clerk, "default")
