"""RegisterMcpServer, ListMcpServers, DeleteMcpServer: validation, ownership, isolation, limits."""

from __future__ import annotations

import asyncio
import functools

import grpc
import pytest

from atoms.agent.v1 import agent_pb2
from tests.support.auth_calls import refusal_of
from tests.support.fake_dns import PUBLIC_ADDRESS, FakeDns

USER = agent_pb2.MCP_SERVER_SCOPE_USER
ORG = agent_pb2.MCP_SERVER_SCOPE_ORGANIZATION


@pytest.fixture
def agent_stack_factory(agent_stack_factory):
    """The agent stack; registered host names (x.example, y.example) resolve through the test's DNS."""
    dns = FakeDns({"x.example": [PUBLIC_ADDRESS], "y.example": [PUBLIC_ADDRESS]})
    return functools.partial(agent_stack_factory, resolver=dns)


async def _register(stack, token: str, **fields: object) -> agent_pb2.McpServer:
    fields.setdefault("scope", USER)
    reply = await stack.stub.RegisterMcpServer(
        agent_pb2.RegisterMcpServerRequest(**fields), metadata=stack.metadata(token), timeout=10
    )
    return reply.server


async def _refusal(stack, token: str, **fields: object):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _register(stack, token, **fields)
    return refusal_of(caught.value)


async def _names(stack, token: str) -> list[str]:
    reply = await stack.stub.ListMcpServers(
        agent_pb2.ListMcpServersRequest(), metadata=stack.metadata(token), timeout=10
    )
    return [server.name for server in reply.servers]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"name": "Upper", "url": "https://x.example/mcp"}, "name", id="uppercase name"),
        pytest.param({"name": "", "url": "https://x.example/mcp"}, "name", id="empty name"),
        pytest.param({"name": "a" * 65, "url": "https://x.example/mcp"}, "name", id="65 character name"),
        pytest.param(
            {"name": "name\n", "url": "https://x.example/mcp"}, "name", id="name ending in a newline"
        ),
        pytest.param({"name": "nl", "url": "https://x.example/mcp\n"}, "url", id="url ending in a newline"),
        pytest.param({"name": "tab", "url": "https://x.exa\tmple/mcp"}, "url", id="url with a tab"),
        pytest.param({"name": "port", "url": "https://x.example:99999/mcp"}, "url", id="port out of range"),
        pytest.param({"name": "at", "url": "https://@x.example/mcp"}, "url", id="empty userinfo"),
        pytest.param({"name": "atoms", "url": "https://x.example/mcp"}, "name", id="a system server's name"),
        pytest.param({"name": "plain", "url": "http://x.example/mcp"}, "url", id="plain http off loopback"),
        pytest.param(
            {"name": "creds", "url": "https://u:p@x.example/mcp"}, "url", id="credentials in the url"
        ),
        pytest.param(
            {"name": "long", "url": "https://x.example/" + "a" * 2100}, "url", id="url over 2048 bytes"
        ),
        pytest.param({"name": "rel", "url": "/mcp"}, "url", id="relative url"),
        pytest.param(
            {"name": "nob", "url": "https://x.example/mcp", "auth_type": agent_pb2.MCP_AUTH_TYPE_BEARER},
            "bearer_token",
            id="bearer without a credential",
        ),
        pytest.param(
            {"name": "stray", "url": "https://x.example/mcp", "bearer_token": "abc"},
            "bearer_token",
            id="credential without bearer auth",
        ),
        pytest.param({"name": "noscope", "url": "https://x.example/mcp", "scope": 0}, "scope", id="no scope"),
        pytest.param(
            {"name": "sys", "url": "https://x.example/mcp", "scope": agent_pb2.MCP_SERVER_SCOPE_SYSTEM},
            "scope",
            id="system scope",
        ),
    ],
)
async def test_invalid_registrations_name_the_bad_field(agent_stack_factory, fields, field) -> None:
    stack = await agent_stack_factory()
    refused = await _refusal(stack, stack.token(), **fields)
    assert (refused.code, refused.reason, refused.metadata) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_REQUEST",
        {"field": field},
    )


async def test_a_member_cannot_register_an_organization_server(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    refused = await _refusal(
        stack, stack.token(role="member"), name="shared", url="https://x.example/mcp", scope=ORG
    )
    assert (refused.code, refused.reason) == (grpc.StatusCode.PERMISSION_DENIED, "MCP_SERVER_FORBIDDEN")


async def test_an_admin_registers_an_organization_server_every_member_sees(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    await _register(
        stack, stack.token("user_admin", role="admin"), name="shared", url="https://x.example/mcp", scope=ORG
    )
    assert "shared" in await _names(stack, stack.token("user_member"))
    assert "shared" not in await _names(stack, stack.token("user_other", org_id="org_b"))


async def test_users_do_not_see_each_others_servers(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    await _register(stack, stack.token("user_alice"), name="private", url="https://x.example/mcp")
    assert "private" in await _names(stack, stack.token("user_alice"))
    assert "private" not in await _names(stack, stack.token("user_bob"))


async def test_the_same_name_twice_in_one_scope_is_already_exists(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    await _register(stack, token, name="dup", url="https://x.example/mcp")
    refused = await _refusal(stack, token, name="dup", url="https://y.example/mcp")
    assert (refused.code, refused.reason) == (grpc.StatusCode.ALREADY_EXISTS, "MCP_SERVER_NAME_TAKEN")


async def test_registrations_are_limited_per_user(agent_stack_factory) -> None:
    stack = await agent_stack_factory(max_servers_per_user=2)
    token = stack.token()
    await _register(stack, token, name="one", url="https://x.example/1")
    await _register(stack, token, name="two", url="https://x.example/2")
    refused = await _refusal(stack, token, name="three", url="https://x.example/3")
    assert (refused.code, refused.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "MCP_SERVER_LIMIT")


async def test_a_user_deletes_their_server_but_not_someone_elses(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    alice, bob = stack.token("user_alice"), stack.token("user_bob")
    server = await _register(stack, alice, name="mine", url="https://x.example/mcp")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stack.stub.DeleteMcpServer(
            agent_pb2.DeleteMcpServerRequest(id=server.id), metadata=stack.metadata(bob), timeout=10
        )
    assert refusal_of(caught.value).reason == "MCP_SERVER_NOT_FOUND"
    await stack.stub.DeleteMcpServer(
        agent_pb2.DeleteMcpServerRequest(id=server.id), metadata=stack.metadata(alice), timeout=10
    )
    assert "mine" not in await _names(stack, alice)


async def test_list_shows_the_system_server_first_party(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    reply = await stack.stub.ListMcpServers(
        agent_pb2.ListMcpServersRequest(), metadata=stack.metadata(stack.token()), timeout=10
    )
    atoms = reply.servers[0]
    assert (atoms.name, atoms.scope, atoms.auth_type, atoms.first_party) == (
        "atoms",
        agent_pb2.MCP_SERVER_SCOPE_SYSTEM,
        agent_pb2.MCP_AUTH_TYPE_INTERNAL,
        True,
    )


async def test_first_party_server_off_the_origin_allow_list_gets_no_token(agent_stack_factory) -> None:
    stack = await agent_stack_factory(first_party_origins=frozenset({"https://mcp.atoms.tech:443"}))
    reply = await stack.stub.ComposeMcpServers(
        agent_pb2.ComposeMcpServersRequest(), metadata=stack.metadata(stack.token()), timeout=10
    )
    (atoms,) = reply.servers
    assert (atoms.forwards_user_token, atoms.first_party, dict(atoms.headers)) == (False, False, {})


async def _register_outcome(stack, token: str, **fields: object) -> str:
    try:
        await _register(stack, token, **fields)
    except grpc.aio.AioRpcError as err:
        return refusal_of(err).code.name
    return "OK"


async def test_concurrent_registrations_never_exceed_the_per_user_limit(agent_stack_factory) -> None:
    stack = await agent_stack_factory(max_servers_per_user=20)
    token = stack.token()
    outcomes = await asyncio.gather(
        *(_register_outcome(stack, token, name=f"s{i}", url="https://x.example/mcp") for i in range(40))
    )
    assert sorted(outcomes) == ["OK"] * 20 + ["RESOURCE_EXHAUSTED"] * 20
    assert len(await _names(stack, token)) == 1 + 20  # the system server and exactly 20


async def test_concurrent_registrations_of_one_name_store_one_and_refuse_the_rest(
    agent_stack_factory,
) -> None:
    stack = await agent_stack_factory()
    token = stack.token()
    outcomes = await asyncio.gather(
        *(_register_outcome(stack, token, name="dup", url="https://x.example/mcp") for _ in range(10))
    )
    assert sorted(outcomes) == ["ALREADY_EXISTS"] * 9 + ["OK"]


ORG_URL = "https://x.example/mcp?api_key=s3cret-in-the-query"
REDACTED_ORG_URL = "https://x.example/mcp?<redacted>"


async def _urls(stack, token: str) -> tuple[str, str]:
    """The org server's URL as ListMcpServers and as ComposeMcpServers show it to this caller."""
    listed = await stack.stub.ListMcpServers(
        agent_pb2.ListMcpServersRequest(), metadata=stack.metadata(token), timeout=10
    )
    composed = await stack.stub.ComposeMcpServers(
        agent_pb2.ComposeMcpServersRequest(), metadata=stack.metadata(token), timeout=10
    )
    (in_list,) = [server.url for server in listed.servers if server.name == "vendor"]
    (in_composition,) = [server.url for server in composed.servers if server.name == "vendor"]
    return in_list, in_composition


async def test_a_member_sees_an_org_servers_url_without_its_query(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    admin = stack.token("user_admin", role="admin")
    registered = await _register(stack, admin, name="vendor", url=ORG_URL, scope=ORG)
    assert registered.url == ORG_URL
    assert await _urls(stack, stack.token("user_member")) == (REDACTED_ORG_URL, REDACTED_ORG_URL)
    assert await _urls(stack, admin) == (ORG_URL, ORG_URL)
    manager = stack.token("user_manager", permissions=["mcp_servers:manage"])
    assert await _urls(stack, manager) == (ORG_URL, ORG_URL)


async def test_the_registering_user_keeps_seeing_the_whole_url(agent_stack_factory) -> None:
    stack = await agent_stack_factory()
    with_permission = stack.token("user_reg", permissions=["mcp_servers:manage"])
    await _register(stack, with_permission, name="vendor", url=ORG_URL, scope=ORG)
    assert await _urls(stack, stack.token("user_reg")) == (ORG_URL, ORG_URL)
