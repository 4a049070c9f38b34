"""The Ray the app starts for itself: every port on loopback, token authentication on (a client
without the token is refused), no dashboard; an existing cluster through ``RAY_ADDRESS``; and the
CPU share of a job from the environment."""

import os
import subprocess
import sys
import textwrap

import pytest

from digit_core import cluster
from digit_core.cluster import ClusterError, job_resources
from tests.support.helpers import ROOT
from tests.support.sockets import descendants, listening

CONNECT = "import ray; ray.init(address={address!r}); print('connected', ray.cluster_resources()['CPU'])"


def run_python(code: str, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_the_embedded_ray_listens_on_loopback_only_and_has_no_dashboard(ray_cluster):
    assert ray_cluster.embedded and ray_cluster.node_ip == "127.0.0.1"
    assert ray_cluster.address.startswith("127.0.0.1:") and ray_cluster.dashboard_url is None
    assert ray_cluster.cpus == 2  # DIGIT_RAY_CPUS, as conftest.py sets it
    # This process (the driver) and Ray's: the GCS, the raylet, the agents, the workers.
    found = listening(descendants(os.getpid()))
    assert int(ray_cluster.address.rsplit(":", 1)[1]) in {s.port for s in found}  # the GCS is there
    assert {"gcs_server", "raylet"} <= {s.name for s in found}
    exposed = [s for s in found if not s.address.is_loopback]
    assert exposed == [], exposed


def test_ray_token_authentication_is_on_and_a_client_without_the_token_is_refused(ray_cluster):
    assert os.environ["RAY_AUTH_MODE"] == "token" and len(os.environ["RAY_AUTH_TOKEN"]) == 64
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN")}
    code = CONNECT.format(address=ray_cluster.address)
    stranger = run_python(code, dict(env, RAY_AUTH_TOKEN="0" * 64))
    assert stranger.returncode != 0 and "connected" not in stranger.stdout
    assert "token" in stranger.stderr.lower()
    member = run_python(code, dict(env, RAY_AUTH_TOKEN=os.environ["RAY_AUTH_TOKEN"]))
    assert member.returncode == 0 and "connected 2.0" in member.stdout, member.stderr[-2000:]


def test_with_ray_address_the_app_submits_to_the_existing_cluster(ray_cluster, tmp_path):
    # Another server process, pointed at the tests' Ray by RAY_ADDRESS (its token inherited).
    code = textwrap.dedent(
        f"""
        from digit_core import cluster
        from digit_core.config import ANNConfig, TrainConfig
        from digit_core.jobs import Runner
        from digit_core.jobstore import JobStore
        from tests.support.jobs import disk_on_fire

        info = cluster.connect()
        job = Runner(JobStore({str(tmp_path)!r})).start(ANNConfig(units=(8,)), TrainConfig(), disk_on_fire)
        assert job.join(180)
        snap = job.snapshot()
        print("embedded", info.embedded, "cpus", info.cpus, "pid", snap.worker["pid"], "error", snap.error)
        """
    )
    done = run_python(code, dict(os.environ, RAY_ADDRESS=ray_cluster.address))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "embedded False cpus 2.0" in done.stdout  # joined ours: started none of its own
    assert "error OSError: disk on fire" in done.stdout  # the job ran (and failed) in a worker of ours


def test_a_jobs_cpu_share_comes_from_the_environment(monkeypatch):
    for name in ("DIGIT_JOB_CPUS", "DIGIT_JOB_GPUS", "DIGIT_JOB_NICE"):
        monkeypatch.delenv(name, raising=False)
    assert job_resources() == cluster.JobResources(cpus=1.0, gpus=0.0, nice=15)
    assert job_resources().threads == 1
    monkeypatch.setenv("DIGIT_JOB_CPUS", "4")
    assert job_resources().cpus == 4 and job_resources().threads == 4
    monkeypatch.setenv("DIGIT_JOB_CPUS", "0.5")  # a fraction of a CPU still gets a thread
    assert job_resources().threads == 1
    monkeypatch.setenv("DIGIT_JOB_GPUS", "1")
    assert job_resources().gpus == 1
    for bad, reason in (("many", "is not a number"), ("0", "at least 0.25")):
        monkeypatch.setenv("DIGIT_JOB_CPUS", bad)
        with pytest.raises(ClusterError, match=reason):
            job_resources()
    monkeypatch.setenv("DIGIT_JOB_CPUS", "1")
    monkeypatch.setenv("DIGIT_JOB_NICE", "0")
    assert job_resources().nice == 0
    for bad in ("20", "2.5", "-1"):
        monkeypatch.setenv("DIGIT_JOB_NICE", bad)
        with pytest.raises(ClusterError, match="DIGIT_JOB_NICE"):
            job_resources()
