"""The fixes ``mailpipe doctor`` prints: the Entra or Exchange step that repairs a failed check.

Token errors carry their own fix (``libs.common.graph.auth``) and Graph errors theirs
(``libs.common.graph.errors``); these are the ones that need the doctor's context (which
permission, which mailbox, which agent).
"""

from __future__ import annotations

from libs.common.settings import MailboxConfig


def permission_fix(permission: str) -> str:
    return (
        f"Entra admin center > App registrations > the app > API permissions > Add a "
        f"permission > Microsoft Graph > Application permissions > {permission}, then "
        "Grant admin consent for the tenant"
    )


CONSENT_FIX = (
    "Entra admin center > App registrations > the app > API permissions: add the Microsoft "
    "Graph application permissions Mail.ReadWrite, Mail.Send and User.Read.All, then "
    "Grant admin consent for the tenant (a Global or Privileged Role Administrator)"
)


def policy_fix(box: MailboxConfig) -> str:
    return (
        f"an Exchange application access policy keeps this app out of {box.address}: add "
        "the mailbox to the policy's mail-enabled security group (Add-DistributionGroupMember "
        f"-Identity <policy group> -Member {box.address}) or change the policy, then check "
        f"with Test-ApplicationAccessPolicy -Identity {box.address} -AppId {box.client_id}; "
        "changes take up to an hour"
    )


def send_as_fix(agent: str, box: MailboxConfig, hint: str | None = None) -> str:
    command = (
        f"Exchange admin center > Recipients > Mailboxes > {agent} > Delegation > Send as > "
        f"add {box.address}; or Add-RecipientPermission -Identity {agent} -Trustee "
        f"{box.address} -AccessRights SendAs (grants take up to an hour)"
    )
    return f"{hint}: {command}" if hint else f"{command}; or remove {agent} from send_as"
