"""Fixes to moto, the sandbox's AWS emulator, where it answers differently from AWS.

Each patch is minimal, names the moto version it was written against and the upstream
change that caused it, and is a no-op once moto does the right thing itself, so upgrading
moto never breaks the sandbox. `apply()` runs when `escala sandbox` starts, in the same
process as moto's server; the test suite runs that same sandbox, so tests meet the
emulator users get.
"""

from typing import Any


def _parse_user_data_of_new_versions() -> None:
    """CreateLaunchTemplateVersion with UserData made every later launch answer 500.

    moto 5.2.5 (since getmoto/moto#9510, "EC2: improve UserData handling") keeps
    UserData as a `Base64EncodedString` and asserts so wherever an instance is launched
    from a template version. CreateLaunchTemplate, CloudFormation and RunInstances parse
    it on the way in; the CreateLaunchTemplateVersion handler does not, so the version
    stores a plain `str`, and the first Auto Scaling launch from it (a rolling update's
    replacement) trips the assertion: HTTP 500. The fix parses a plain string the way
    the other entry points do (invalid base64 -> InvalidUserData.Malformed, as AWS).
    """
    from moto.ec2.models.launch_templates import LaunchTemplate
    from moto.ec2.utils import parse_user_data

    create_version = LaunchTemplate.create_version
    if getattr(create_version, "escala_patched", False):
        return

    def create_version_parsing_user_data(
        self: LaunchTemplate, data: dict[str, Any], description: str
    ) -> Any:
        if isinstance(data.get("UserData"), str):
            data = {**data, "UserData": parse_user_data(data["UserData"])}
        return create_version(self, data, description)

    create_version_parsing_user_data.escala_patched = True  # type: ignore[attr-defined]
    LaunchTemplate.create_version = create_version_parsing_user_data  # type: ignore[method-assign]


# The protocols whose rules have ports, by name and by number (tcp, udp, icmp, icmpv6);
# -1 (all) has none, and moto knows it.
PORTED_PROTOCOLS = frozenset({"tcp", "udp", "icmp", "icmpv6", "6", "17", "1", "58", "-1"})


def _rules_of_protocols_without_ports() -> None:
    """AuthorizeSecurityGroupIngress answered 500 for calico's IP-in-IP rule.

    moto 5.2.5 (models/security_groups.py, `SecurityGroupRule.__init__`) reads FromPort
    and ToPort with `int()` for every protocol but -1, so a rule of protocol 4 given
    without ports, as escala opens IP-in-IP between calico nodes, fails with `int(None)`.
    AWS documents that a protocol other than tcp, udp, icmp or icmpv6 allows every port
    whatever ports are given; the fix stores such a rule without ports, and
    DescribeSecurityGroups shows it without FromPort/ToPort, as AWS does. (getmoto/moto#597
    made rules without ports work for -1 only.)
    """
    from moto.ec2.models.security_groups import SecurityGroupRule

    rule_init = SecurityGroupRule.__init__
    if getattr(rule_init, "escala_patched", False):
        return

    def rule_of_any_protocol(
        self: SecurityGroupRule,
        backend: Any,
        protocol: str,
        group_id: str,
        from_port: Any,
        to_port: Any,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        portless = str(protocol).lower() not in PORTED_PROTOCOLS and from_port is None
        ports = (0, 0) if portless else (from_port, to_port)
        rule_init(self, backend, protocol, group_id, *ports, *args, **kwargs)
        if portless:
            self.from_port = self.to_port = None

    rule_of_any_protocol.escala_patched = True  # type: ignore[attr-defined]
    SecurityGroupRule.__init__ = rule_of_any_protocol  # type: ignore[method-assign]


def apply() -> None:
    """Apply every patch (idempotent)."""
    _parse_user_data_of_new_versions()
    _rules_of_protocols_without_ports()
