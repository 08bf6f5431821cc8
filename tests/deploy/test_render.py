"""deploy/kamailio/render.py: the defines the edge's configuration reads, and the options
it refuses before Kamailio ever starts."""

import importlib.util
from pathlib import Path

import pytest

RENDER = Path(__file__).resolve().parents[2] / "deploy" / "kamailio" / "render.py"
TOKEN = "edge-token_0123.~"


@pytest.fixture(scope="module")
def render():
    spec = importlib.util.spec_from_file_location("vmgate_render", RENDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def defines(render, tmp_path, *options):
    args = render.parse_args(
        [str(tmp_path / "edge"), "--token", TOKEN, "--db-url", "postgres://x@127.0.0.1/db"]
        + ["--tenant-id", "7", *options]
    )
    render.render(args)
    lines = (tmp_path / "edge" / "vmgate-edge.cfg").read_text().splitlines()
    return dict(line.split(" ", 2)[1:] for line in lines if line.startswith("#!define "))


def test_the_edge_asks_the_route_service_with_the_token_in_each_command(render, tmp_path):
    found = defines(render, tmp_path, "--api-url", "http://127.0.0.2:8799", "--api-timeout", "2")
    assert found["VMGATE_ROUTE_SERVER"] == '"name=vmgate;addr=127.0.0.2;port=8799"'
    assert found["VMGATE_ROUTE_COMMAND"] == f'"ROUTE {TOKEN} %s %s %s"'
    assert found["VMGATE_ROUTE_TIMEOUT_MS"] == "1000"  # each of two tries: half of 2 s
    assert (tmp_path / "edge" / "vmgate-edge.cfg").stat().st_mode & 0o777 == 0o600
    # the default: the route service's own default address
    assert defines(render, tmp_path)["VMGATE_ROUTE_SERVER"].endswith('port=8701"')


@pytest.mark.parametrize(
    "options",
    [
        ["--api-url", "https://127.0.0.1:8701"],  # RESP here is plain TCP
        ["--api-url", "http://127.0.0.1"],  # no port
        ["--api-url", "http://127.0.0.1:8701/api/v1/route/"],  # a path: not the service's
        ["--api-url", "http://127.0.0.1:99999"],
        ["--api-url", "http://a=b:8701"],
        ["--pike-density", "65536"],  # pike counts in 16 bits
        ["--pike-density", "0"],
    ],
)
def test_options_the_edge_cannot_use_are_refused(render, tmp_path, options, capsys):
    with pytest.raises(SystemExit) as refused:
        defines(render, tmp_path, *options)
    assert refused.value.code == 2
    assert "error:" in capsys.readouterr().err
