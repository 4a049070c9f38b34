"""Where trainings run: Ray, embedded in this process by default or an existing cluster.

With ``RAY_ADDRESS`` set, :func:`connect` joins that cluster (its token, if it uses token
authentication, comes from ``RAY_AUTH_TOKEN`` or ``~/.ray/auth_token`` as Ray documents). Otherwise
the first call starts a local Ray instance inside this process's lifetime: sized to the machine
(``DIGIT_RAY_CPUS`` to override), no dashboard, every Ray port bound to 127.0.0.1, and Ray's token
authentication on (a fresh random token for this instance unless one is given). Ray stops it when
the process exits.

Each training asks for ``DIGIT_JOB_CPUS`` CPUs (default 1) and ``DIGIT_JOB_GPUS`` GPUs (default 0);
a job that does not fit waits in Ray's queue. Its worker runs at the niceness ``DIGIT_JOB_NICE``
(default 15, as Ray's own default for its workers), so that on a machine shared with the
server the answers to drawings come first. Importing this module does not import Ray.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

ADDRESS_ENV = "RAY_ADDRESS"  # Ray's own variable: an existing cluster to submit to
CPUS_ENV = "DIGIT_RAY_CPUS"  # CPUs of the embedded instance (default: all of this machine's)
JOB_CPUS_ENV = "DIGIT_JOB_CPUS"  # CPUs one training asks for; its TensorFlow uses that many threads
JOB_GPUS_ENV = "DIGIT_JOB_GPUS"  # GPUs one training asks for (0: the worker sees none)
JOB_NICE_ENV = "DIGIT_JOB_NICE"  # the workers' scheduling niceness: the pages' work comes first
DEFAULT_NICE = 15  # as Ray starts its workers by default; kept where a cluster starts them at 0
AUTH_MODE_ENV, AUTH_TOKEN_ENV = "RAY_AUTH_MODE", "RAY_AUTH_TOKEN"
# Ray binds its ports to the node's IP; with this off it uses 127.0.0.1 as the node's IP, so
# nothing of the embedded instance listens beyond this machine. Read by Ray when it is imported.
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
NAMESPACE = "digit-lab"

_lock = threading.Lock()
_info: ClusterInfo | None = None


class ClusterError(RuntimeError):
    """Ray could not be started or reached; the message says which and why."""


@dataclass(frozen=True)
class ClusterInfo:
    """How this process reaches Ray: ``embedded`` (started here) or an existing cluster."""

    embedded: bool
    address: str  # the GCS address, host:port
    cpus: float  # CPUs in the whole cluster when connected
    node_ip: str
    dashboard_url: str | None = None  # None: no dashboard (the embedded instance never has one)


@dataclass(frozen=True)
class JobResources:
    """What one training asks Ray for; TensorFlow in the worker gets ``threads`` threads."""

    cpus: float
    gpus: float
    nice: int = DEFAULT_NICE

    @property
    def threads(self) -> int:
        return max(1, int(self.cpus))


def _number(env: str, default: float, minimum: float) -> float:
    text = os.environ.get(env, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ClusterError(f"{env}={text!r} is not a number") from None
    if value < minimum:
        raise ClusterError(f"{env} must be at least {minimum:g}, got {value:g}")
    return value


def job_resources() -> JobResources:
    """The share of the cluster one training asks for, from the environment."""
    nice = _number(JOB_NICE_ENV, DEFAULT_NICE, 0)
    if nice > 19 or nice != int(nice):
        raise ClusterError(f"{JOB_NICE_ENV} must be a whole number from 0 to 19, got {nice:g}")
    return JobResources(
        cpus=_number(JOB_CPUS_ENV, 1.0, 0.25), gpus=_number(JOB_GPUS_ENV, 0.0, 0.0), nice=int(nice)
    )


def connect() -> ClusterInfo:
    """Connect this process to Ray once (later calls return at once); thread-safe.

    Ray is started from a thread of its own that lives as long as the process: Ray ties its
    processes to the *thread* that started them (Linux's parent-death signal), and a Streamlit
    script run's thread, or a job's, ends long before the server does.
    """
    global _info
    with _lock:
        if _info is not None:
            import ray

            if ray.is_initialized():
                return _info
            _info = None  # someone shut Ray down: start again
        outcome: dict[str, Any] = {}
        ready = threading.Event()

        def keeper() -> None:
            try:
                outcome["info"] = _connect()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                outcome["error"] = exc
            ready.set()
            if "info" in outcome:
                threading.Event().wait()  # never set: this thread must outlive Ray's processes

        threading.Thread(target=keeper, name="ray-keeper", daemon=True).start()
        ready.wait()
        if "error" in outcome:
            raise outcome["error"]
        _info = outcome["info"]
        return _info


def _connect() -> ClusterInfo:
    address = os.environ.get(ADDRESS_ENV, "").strip()
    if not address:
        os.environ.setdefault(LOOPBACK_ENV, "0")
        os.environ.setdefault(AUTH_MODE_ENV, "token")
        if os.environ[AUTH_MODE_ENV].lower() == "token":
            # A token for this instance only, inherited by its processes; never written to disk.
            os.environ.setdefault(AUTH_TOKEN_ENV, secrets.token_hex(32))
    import ray

    if ray.is_initialized():  # someone (a test, a notebook) already connected this process
        return _describe(ray, embedded=False, dashboard_url=None)
    options: dict[str, Any] = dict(
        namespace=NAMESPACE,
        log_to_driver=False,  # a job's failure comes back as its message and is logged here
        configure_logging=False,
    )
    try:
        if address:
            log.info("connecting to the Ray cluster at %s", address)
            context = ray.init(address=address, **options)
        else:
            cpus = _number(CPUS_ENV, float(os.cpu_count() or 1), 1)
            context = ray.init(num_cpus=int(cpus), num_gpus=None, include_dashboard=False, **options)
    except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; all mean "no Ray"
        raise ClusterError(
            f"could not {'reach Ray at ' + address if address else 'start Ray'}: {exc}"
        ) from exc
    info = _describe(ray, embedded=not address, dashboard_url=context.dashboard_url or None)
    log.info(
        "%s Ray at %s: %g CPUs, token authentication %s",
        "started an embedded" if info.embedded else "connected to",
        info.address,
        info.cpus,
        os.environ.get(AUTH_MODE_ENV, "Ray's default"),
    )
    return info


def _describe(ray: Any, embedded: bool, dashboard_url: str | None) -> ClusterInfo:
    context = ray.get_runtime_context()
    cpus = float(ray.cluster_resources().get("CPU", 0.0))
    return ClusterInfo(embedded, context.gcs_address, cpus, ray.util.get_node_ip_address(), dashboard_url)


def shutdown() -> None:
    """Disconnect (and stop an embedded instance); Ray also does this when the process exits."""
    global _info
    with _lock:
        import ray

        ray.shutdown()
        _info = None
