"""Chat against what a model and the caller's servers throw at it: many calls, look-alike names, a bomb."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from fastmcp import FastMCP

from atoms.agent.v1 import agent_pb2
from atoms_agent.chat_session import DEFAULT_MAX_TOOL_CALLS_PER_TURN
from atoms_agent.mcp_client_limits import DEFAULT_MAX_RESPONSE_BYTES
from atoms_agent.model_tool_names import MAX_FUNCTION_NAME_CHARS, ModelToolIndex
from atoms_agent.settings import ModelEndpoint
from atoms_grpc.embedded_http_server import EmbeddedHttpServer
from tests.support.auth_calls import refusal_of
from tests.support.fake_model_server import FakeModel
from tests.support.hostile_mcp import gzip_bomb

LONG_PREFIX = "lookup_" + "x" * 60


@pytest.fixture
async def start_model():
    servers: list[EmbeddedHttpServer] = []

    async def start(model: FakeModel) -> ModelEndpoint:
        server = EmbeddedHttpServer(model.app())
        await server.start()
        servers.append(server)
        return ModelEndpoint(base_url=f"{server.base_url}/v1", model="fake-model")

    yield start
    for server in servers:
        await server.stop()


async def _chat(stack, token: str) -> list[agent_pb2.ChatResponse]:
    request = agent_pb2.ChatRequest(messages=[agent_pb2.ChatMessage(role="user", content="go")])
    return [event async for event in stack.stub.Chat(request, metadata=stack.metadata(token), timeout=60)]


async def _register(stack, token: str, name: str, url: str) -> None:
    await stack.stub.RegisterMcpServer(
        agent_pb2.RegisterMcpServerRequest(name=name, url=url, scope=agent_pb2.MCP_SERVER_SCOPE_USER),
        metadata=stack.metadata(token),
        timeout=10,
    )


async def test_a_model_turn_asking_for_300_tool_calls_runs_only_the_bound_and_finishes(
    agent_stack_factory, start_model
) -> None:
    model = FakeModel(tool_name="atoms__echo", tool_arguments={"text": "again"}, repeat=300)
    stack = await agent_stack_factory(model=await start_model(model))

    events = await _chat(stack, stack.token())

    assert stack.first_party.count("tools/call") == DEFAULT_MAX_TOOL_CALLS_PER_TURN
    results = [event.tool_result for event in events if event.HasField("tool_result")]
    assert len(results) == 300  # every call the model asked for gets an answer, so the protocol holds
    refused = [result for result in results if result.result.is_error]
    assert len(refused) == 300 - DEFAULT_MAX_TOOL_CALLS_PER_TURN
    assert "chat_max_tool_calls_per_turn" in refused[0].result.content[0].text
    assert events[-1].done.finish_reason == "stop"


def _twins_server() -> FastMCP:
    """Two tools whose `server__tool` names share their first 64 characters."""
    server = FastMCP("twins")

    @server.tool(name=f"{LONG_PREFIX}_alpha")
    def alpha() -> str:
        """The alpha tool."""
        return "alpha ran"

    @server.tool(name=f"{LONG_PREFIX}_beta")
    def beta() -> str:
        """The beta tool."""
        return "beta ran"

    return server


def _call_every_twin(tools: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (tool["function"]["name"], {}) for tool in tools if tool["function"]["name"].startswith("twins__")
    ]


async def test_tools_whose_names_collide_when_cut_to_64_characters_each_run_as_themselves(
    agent_stack_factory, recording_mcp_factory, start_model
) -> None:
    model = FakeModel(tool_name="", tool_arguments={}, pick_calls=_call_every_twin)
    stack = await agent_stack_factory(model=await start_model(model))
    twins = await recording_mcp_factory("twins", server_app=_twins_server())
    token = stack.token()
    await _register(stack, token, "twins", twins.url)

    events = await _chat(stack, token)

    offered = [tool["function"] for tool in model.requests[0]["tools"]]
    twin_names = [tool["name"] for tool in offered if tool["name"].startswith("twins__")]
    assert len(set(twin_names)) == 2
    assert all(len(name) <= MAX_FUNCTION_NAME_CHARS for name in twin_names)
    calls = {event.tool_call.call_id: event.tool_call for event in events if event.HasField("tool_call")}
    ran = {
        calls[event.tool_result.call_id].tool_name: event.tool_result.result.content[0].text
        for event in events
        if event.HasField("tool_result")
    }
    assert ran == {f"{LONG_PREFIX}_alpha": "alpha ran", f"{LONG_PREFIX}_beta": "beta ran"}


async def test_a_chat_with_a_bomb_server_registered_still_runs_without_its_tools(
    agent_stack_factory, recording_mcp_factory, start_model
) -> None:
    model = FakeModel(tool_name="atoms__echo", tool_arguments={"text": "still here"})
    stack = await agent_stack_factory(model=await start_model(model))
    bomb = await recording_mcp_factory(
        "bomb", answers={"tools/list": gzip_bomb(8 * DEFAULT_MAX_RESPONSE_BYTES)}
    )
    token = stack.token()
    await _register(stack, token, "bomb", bomb.url)

    events = await _chat(stack, token)

    offered = {tool["function"]["name"] for tool in model.requests[0]["tools"]}
    assert offered == {"atoms__echo", "atoms__add"}
    assert events[-1].done.finish_reason == "stop"


@pytest.mark.parametrize(
    "delta",
    [
        {"tool_calls": [{"index": "zero", "function": {"name": "atoms__echo", "arguments": "{}"}}]},
        {"tool_calls": [{"index": 0, "function": "atoms__echo"}]},
        {"tool_calls": [{"index": 0, "id": 7, "function": {"name": "atoms__echo"}}]},
        {"tool_calls": [{"index": 0, "function": {"name": ["atoms__echo"]}}]},
    ],
    ids=["an index that is not a number", "a function that is a string", "a numeric id", "a list as name"],
)
async def test_a_malformed_tool_call_from_the_model_is_model_unavailable_not_internal(
    agent_stack_factory, start_model, delta: dict[str, Any]
) -> None:
    model = FakeModel(tool_name="", tool_arguments={}, first_turn_deltas=[delta])
    stack = await agent_stack_factory(model=await start_model(model))

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _chat(stack, stack.token())

    refused = refusal_of(caught.value)
    assert (refused.code, refused.reason) == (grpc.StatusCode.UNAVAILABLE, "MODEL_UNAVAILABLE")
    assert stack.first_party.count("tools/call") == 0


class _Tool:
    def __init__(self, name: str) -> None:
        self.name, self.description, self.input_schema = name, "", None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("a__b", "c"), ("a", "b__c")),
        (("srv", "get.user"), ("srv", "get_user")),
        (("srv", LONG_PREFIX + "_one"), ("srv", LONG_PREFIX + "_two")),
    ],
    ids=["separator inside a name", "a cleaned name", "names cut at 64 characters"],
)
def test_look_alike_tools_get_distinct_function_names_that_route_back_to_each(
    first: tuple[str, str], second: tuple[str, str]
) -> None:
    index = ModelToolIndex()
    one, two = index.add(first[0], _Tool(first[1])), index.add(second[0], _Tool(second[1]))

    assert one is not None
    assert two is not None
    assert one.function_name != two.function_name
    for entry, (server, tool) in ((one, first), (two, second)):
        routed = index.route(entry.function_name)
        assert routed is not None
        assert (routed.server_name, routed.tool_name) == (server, tool)
        assert len(entry.function_name) <= MAX_FUNCTION_NAME_CHARS
