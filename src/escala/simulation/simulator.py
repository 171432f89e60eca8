"""Step a case through a load profile in simulated time, tick by tick.

Each tick the load is spread evenly over the replicas that are ready (what a load
balancer does); the capacity model gives each one's CPU demand, capped at the CPU it may
use; the platform's metric (instance, task or pod CPU utilisation) feeds its control loop
at the loop's own period, against the target escala gives that loop (the case's CPU
target is of the chat's one core: escala.api.chat_scaling translates it to instance and
task CPU); the loop's decisions launch or stop replicas and nodes, which
serve only once started. Deterministic for a seed (start-up times vary by +-10 %).
"""

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from escala.api.chat_scaling import ReplicaCpu, fargate_cpu
from escala.simulation.capacity import CapacityModel
from escala.simulation.cases import Case, Ec2Case, FargateCase, KubernetesCase
from escala.simulation.cost import prices
from escala.simulation.loops.alarms import AlarmParameters
from escala.simulation.loops.app_autoscaling import EcsParameters, EcsTargetTracking
from escala.simulation.loops.cluster_autoscaler import (
    CAParameters,
    ClusterAutoscaler,
    NodeView,
)
from escala.simulation.loops.hpa import HorizontalPodAutoscaler, HPAParameters
from escala.simulation.loops.target_tracking import Ec2Parameters, Ec2TargetTracking
from escala.simulation.profile import Load

TICK_S = 5.0
POD_MEMORY_LIMIT_MIB = 512  # escala deploy chat's limit


@dataclass
class Series:
    """One value per tick."""

    times_s: np.ndarray
    connections: np.ndarray
    messages_per_s: np.ndarray
    desired: np.ndarray
    ready: np.ndarray
    nodes: np.ndarray
    demand_cores: np.ndarray
    capacity_cores: np.ndarray
    over_target: np.ndarray
    over_provisioned: np.ndarray
    cost_per_hour: np.ndarray


@dataclass(frozen=True)
class Summary:
    label: str
    cpu_target: float
    peak_replicas: int
    peak_nodes: int
    minutes_over_target: float
    longest_over_target_min: float
    minutes_over_provisioned: float
    cost_per_hour: float
    total_cost: float
    peak_memory_mib: float
    memory_limit_mib: float


@dataclass
class Run:
    case: Case
    series: Series
    summary: Summary


@dataclass(frozen=True)
class Share:
    """What each of `n` ready replicas carries of the load at one tick."""

    demand_cores: float  # per replica
    used_cores: float
    memory_mib: float
    over: bool


@dataclass(frozen=True)
class Costs:
    """The capacity model's numbers as plain floats: read once per tick, they must be
    cheap to read (a day is 17,280 ticks)."""

    base: float
    per_connection: float
    per_delivered: float
    per_message: float
    knee_cores: float
    memory_base_mib: float
    memory_per_connection_mib: float

    @classmethod
    def of(cls, model: CapacityModel) -> "Costs":
        c, m = model.cpu, model.memory
        return cls(
            c.base_cores,
            c.per_connection,
            c.per_delivered,
            c.per_message,
            model.saturation_cores(1.0),
            m.base_mib,
            m.per_connection_kib / 1024,
        )


def share(
    costs: Costs,
    connections: float,
    messages: float,
    room: int | None,
    n: int,
    cores: float,
    memory_cap_mib: float,
) -> Share:
    """Spread the load over `n` replicas that may each use `cores` CPU; one is over the
    target when its CPU passes the model's knee (scaled to `cores`, at most one core) or
    its memory passes the limit (it would be killed)."""
    if n == 0:
        return Share(0.0, 0.0, 0.0, connections > 0)
    members = min(room or connections, connections)
    delivered = messages * max(members - 1, 0.0) / n
    # With Redis, a replica handles every message of a room it has a member in.
    handled = messages * (1 - (1 - 1 / n) ** members) if members > 0 else 0.0
    per_replica = connections / n
    demand = (
        costs.base
        + costs.per_connection * per_replica
        + costs.per_delivered * delivered
        + costs.per_message * handled
    )
    memory = costs.memory_base_mib + costs.memory_per_connection_mib * per_replica
    over = demand > costs.knee_cores * min(cores, 1.0) or memory > memory_cap_mib
    return Share(demand, min(demand, cores), memory, over)


def _serve(costs: Costs, load: Load, i: int, n: int, cores: float, memory_limit: float) -> Share:
    """The load of tick `i` over `n` ready replicas."""
    return share(costs, load.people[i], load.rates[i], load.room_size, n, cores, memory_limit)


@dataclass
class _MinuteAverage:
    """CloudWatch's one-minute datapoint of a per-replica metric."""

    total: float = 0.0
    count: int = 0

    def add(self, value: float, replicas: int) -> None:
        self.total += value * replicas
        self.count += replicas

    def close(self) -> float | None:
        value = self.total / self.count if self.count else None
        self.total, self.count = 0.0, 0
        return value


def _jitter(rng: random.Random, seconds: float) -> float:
    return seconds * rng.uniform(0.9, 1.1)


class _Recorder:
    def __init__(self, load: Load) -> None:
        self.load = load
        self.rows: list[tuple[float, ...]] = []
        self.peak_memory = 0.0

    def add(
        self,
        desired: int,
        ready: int,
        nodes: int,
        s: Share,
        cores: float,
        over_provisioned: bool,
        cost: float,
    ) -> None:
        self.peak_memory = max(self.peak_memory, s.memory_mib)
        self.rows.append(
            (
                desired,
                ready,
                nodes,
                s.demand_cores * ready,
                cores * ready,
                s.over,
                over_provisioned,
                cost,
            )
        )

    def series(self) -> Series:
        cols = np.array(self.rows, dtype=float).T
        return Series(
            self.load.times_s,
            self.load.connections,
            self.load.messages_per_s,
            cols[0],
            cols[1],
            cols[2],
            cols[3],
            cols[4],
            cols[5].astype(bool),
            cols[6].astype(bool),
            cols[7],
        )


def _needed(total_demand: float, target: float, basis_cores: float, minimum: int) -> int:
    return max(minimum, math.ceil(total_demand / (target / 100 * basis_cores) - 1e-9))


def simulate(case: Case, load: Load, model: CapacityModel, seed: int = 0) -> Run:
    """Run `case` through `load`; the same inputs and seed give the same run."""
    rng = random.Random(seed)
    memory_limit = memory_limit_mib(case)
    if isinstance(case, Ec2Case):
        rec = _ec2(case, load, model, rng, memory_limit)
    elif isinstance(case, FargateCase):
        rec = _fargate(case, load, model, rng, memory_limit)
    else:
        rec = _kubernetes(case, load, model, rng, memory_limit)
    series = rec.series()
    return Run(case, series, summarise(case, series, load.tick_s, rec.peak_memory, memory_limit))


def memory_limit_mib(case: Case) -> float:
    """What one replica may hold: the instance's memory, the task's, or the pod's limit."""
    if isinstance(case, Ec2Case):
        return 1024 * prices().machine(case.machine_type, "machineType").memory_gib
    if isinstance(case, FargateCase):
        return float(case.memory_mib)
    return float(POD_MEMORY_LIMIT_MIB)


def summarise(
    case: Case, s: Series, tick_s: float, peak_memory: float, memory_limit: float
) -> Summary:
    minutes = tick_s / 60
    longest = run = 0
    for over in s.over_target:
        run = run + 1 if over else 0
        longest = max(longest, run)
    hours = len(s.times_s) * tick_s / 3600
    total = float(s.cost_per_hour.sum() * tick_s / 3600)
    return Summary(
        label=case.label,
        cpu_target=case.cpu_target,
        peak_replicas=int(s.ready.max(initial=0)),
        peak_nodes=int(s.nodes.max(initial=0)),
        minutes_over_target=float(s.over_target.sum() * minutes),
        longest_over_target_min=longest * minutes,
        minutes_over_provisioned=float(s.over_provisioned.sum() * minutes),
        cost_per_hour=total / hours if hours else 0.0,
        total_cost=total,
        peak_memory_mib=peak_memory,
        memory_limit_mib=memory_limit,
    )


def _ec2(
    case: Ec2Case, load: Load, model: CapacityModel, rng: random.Random, memory_limit: float
) -> _Recorder:
    costs = Costs.of(model)
    machine = prices().machine(case.machine_type, "machineType")
    replica = ReplicaCpu(machine.name, machine.vcpus)
    cores = replica.chat_vcpus  # one single-threaded chat process per instance
    # the policy's target on ASGAverageCPUUtilization, as escala builds it
    alarms = AlarmParameters(replica.metric_target(case.cpu_target))
    loop = Ec2TargetTracking(Ec2Parameters(alarms, case.min_size, case.max_size, case.warmup_s))
    # (in service at, counted in the metric at); the group starts at minSize, warmed up.
    instances = [(-math.inf, -math.inf)] * case.min_size
    desired, minute, rec = case.min_size, _MinuteAverage(), _Recorder(load)
    for i, now in enumerate(load.seconds):
        while len(instances) < desired:
            instances.append((now + _jitter(rng, case.boot_s), now + case.warmup_s))
        if len(instances) > desired:  # the newest go first (still booting, if any)
            instances = sorted(instances)[:desired]
        serving = sum(1 for up, _ in instances if up <= now)
        counted = sum(1 for up, c in instances if up <= now and c <= now)
        s = _serve(costs, load, i, serving, cores, memory_limit)
        minute.add(s.used_cores / machine.vcpus * 100, counted)
        needed = _needed(s.demand_cores * serving, case.cpu_target, cores, case.min_size)
        rec.add(desired, serving, 0, s, cores, serving > needed, len(instances) * machine.hour)
        if (i + 1) * load.tick_s % loop.params.alarms.period_s == 0:
            desired = loop.evaluate(desired, counted, len(instances) - counted, minute.close())
    return rec


def _fargate(
    case: FargateCase, load: Load, model: CapacityModel, rng: random.Random, memory_limit: float
) -> _Recorder:
    costs = Costs.of(model)
    replica = fargate_cpu(case.cpu_units)
    task_cores, cores = replica.vcpus, replica.chat_vcpus
    price = prices().fargate_task_hour(case.cpu_units, case.memory_mib)
    alarms = AlarmParameters(replica.metric_target(case.cpu_target))  # as escala builds it
    loop = EcsTargetTracking(EcsParameters(alarms, case.min_size, case.max_size))
    tasks = [-math.inf] * case.min_size  # running from; the service starts at minSize
    desired, minute, rec = case.min_size, _MinuteAverage(), _Recorder(load)
    for i, now in enumerate(load.seconds):
        while len(tasks) < desired:
            tasks.append(now + _jitter(rng, case.start_s))
        if len(tasks) > desired:
            tasks = sorted(tasks)[:desired]
        running = sum(1 for t in tasks if t <= now)
        s = _serve(costs, load, i, running, cores, memory_limit)
        minute.add(s.used_cores / task_cores * 100, running)
        needed = _needed(s.demand_cores * running, case.cpu_target, cores, case.min_size)
        rec.add(desired, running, 0, s, cores, running > needed, len(tasks) * price)
        if (i + 1) * load.tick_s % loop.params.alarms.period_s == 0:
            desired = loop.evaluate(float(now), desired, running, minute.close())
    return rec


@dataclass
class _Pod:
    node: int | None = None
    ready_at: float | None = None


@dataclass
class _Nodes:
    ready_at: dict[int, float] = field(default_factory=dict)
    next_name: int = 0

    def add(self, at: float) -> None:
        self.ready_at[self.next_name] = at
        self.next_name += 1


def _kubernetes(
    case: KubernetesCase, load: Load, model: CapacityModel, rng: random.Random, memory_limit: float
) -> _Recorder:
    costs = Costs.of(model)
    node = prices().machine(case.node_type, "nodeType")
    master = prices().machine(case.master_type, "masterType")
    pods_per_node = max(1, (node.vcpus * 1000 - case.node_reserved_m) // case.pod_request_m)
    request, cores = case.pod_request_m / 1000, min(case.pod_limit_m / 1000, 1.0)
    hpa = HorizontalPodAutoscaler(HPAParameters(case.cpu_target, case.min_size, case.max_size))
    ca = ClusterAutoscaler(CAParameters(case.min_nodes, case.max_nodes), pods_per_node)
    nodes = _Nodes()
    for _ in range(case.min_nodes):
        nodes.add(0.0)
    pods = [_Pod(k % case.min_nodes, -math.inf) for k in range(case.min_size)]
    window: deque[float] = deque(maxlen=3)  # metrics-server's 15 s window
    rec = _Recorder(load)
    for i, now in enumerate(load.seconds):
        # Pods the scheduler could not place: what cluster-autoscaler sees as unschedulable
        # (pods the HPA adds later in this tick get their chance first).
        unschedulable = _schedule(
            pods, nodes, pods_per_node, now, lambda: _jitter(rng, case.pod_start_s)
        )
        ready = sum(1 for p in pods if p.ready_at is not None and p.ready_at <= now)
        s = _serve(costs, load, i, ready, cores, memory_limit)
        if ready:
            window.append(s.used_cores / request * 100)
        needed = _needed(s.demand_cores * ready, case.cpu_target, request, case.min_size)
        cost = case.masters * master.hour + len(nodes.ready_at) * node.hour
        rec.add(len(pods), ready, len(nodes.ready_at), s, cores, ready > needed, cost)
        t = (i + 1) * load.tick_s
        if t % hpa.params.sync_period_s == 0 and window:
            utilization = sum(window) / len(window)
            wanted = hpa.sync(t, len(pods), ready, utilization, len(pods) - ready)
            pods = _resize(pods, wanted)
        if t % ca.params.scan_interval_s == 0:
            views = [
                NodeView(str(n), sum(1 for p in pods if p.node == n), at <= now)
                for n, at in nodes.ready_at.items()
            ]
            decision = ca.scan(t, views, unschedulable)
            for _ in range(decision.add):
                nodes.add(now + _jitter(rng, case.node_boot_s))
            for name in decision.remove:
                del nodes.ready_at[int(name)]
                for pod in pods:
                    if pod.node == int(name):  # evicted: the ReplicaSet makes it anew
                        pod.node, pod.ready_at = None, None
    return rec


def _schedule(
    pods: list[_Pod], nodes: _Nodes, room: int, now: float, start_s: Callable[[], float]
) -> int:
    """The scheduler: each pending pod onto the first joined node with room; returns how
    many are left pending."""
    pending = [p for p in pods if p.node is None]
    if not pending:
        return 0
    on_node = {n: sum(1 for p in pods if p.node == n) for n in nodes.ready_at}
    for placed, pod in enumerate(pending):
        free = [n for n, at in nodes.ready_at.items() if at <= now and on_node[n] < room]
        if not free:
            return len(pending) - placed
        pod.node, pod.ready_at = free[0], now + start_s()
        on_node[free[0]] += 1
    return 0


def _resize(pods: list[_Pod], wanted: int) -> list[_Pod]:
    """The ReplicaSet: new pods are pending; removal takes pending, then unready, then
    the newest pods first."""
    if wanted >= len(pods):
        return pods + [_Pod() for _ in range(wanted - len(pods))]
    ranked = sorted(
        range(len(pods)),
        key=lambda k: (
            pods[k].node is not None,
            pods[k].ready_at is not None,
            -(pods[k].ready_at or 0),
        ),
    )
    keep = set(ranked[len(pods) - wanted :])
    return [p for k, p in enumerate(pods) if k in keep]
