"""NATS JetStream: a durable pull consumer that synthcap owns, read exactly once.

**Exactly once.** A batch is a run of messages in stream order; its Delta transaction is
``(nats:<stream>:<durable>, stream sequence of its last message)``. ``raw_capture`` commits the
rows under that transaction, then calls ``on_committed``, which acks the last message (the
consumer's ack policy is ``all``: one ack covers the batch). Batches are *replayable*: after a
capture died between its commit and its ack, the consumer still has delivered-but-unacked
messages, and the next read restarts the consumer at its ack floor + 1 and reads no further
than the last sequence delivered before, so it rebuilds the very same batch (same first
message, same date cut, same last sequence). Its version is then at or below the committed
one and the append is skipped; the ack follows. A capture that died before its commit
rebuilds the batch too and commits it. So no message is lost and none is written twice.
One capture per source at a time (Dagster runs one per partition; the sensor requests one).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors
from nats.js import api

from synthcap_resources.sources.base import SourceReadError, SourceUnreachableError
from synthcap_resources.sources.stream_nats_pull import FETCH_MAX, Puller, seq_and_time
from synthcap_resources.sources.stream_records import Message
from synthcap_resources.sources.stream_spec import StreamSpec

CONNECT_TIMEOUT_S = 5


def app_id(spec: StreamSpec) -> str:
    """The Delta transaction application id of this consumer's batches."""
    return f"nats:{spec.stream_name}:{spec.durable}"


def public_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 4222}"


async def connect(url: str, where: str) -> nats.NATS:
    try:
        return await nats.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT_S,
            allow_reconnect=False,
            max_reconnect_attempts=0,
        )
    except (TimeoutError, OSError, nats.errors.Error) as exc:
        raise SourceUnreachableError(
            f"{where}: cannot connect to NATS at {public_url(url)}: {exc or type(exc).__name__}"
        ) from exc


def _config(spec: StreamSpec, start_seq: int | None = None) -> api.ConsumerConfig:
    by_seq = start_seq is not None and start_seq > 1
    return api.ConsumerConfig(
        name=spec.durable,
        durable_name=spec.durable,
        ack_policy=api.AckPolicy.ALL,
        ack_wait=spec.ack_wait_seconds,
        max_deliver=-1,
        max_ack_pending=-1,
        filter_subject=spec.subject,
        deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE if by_seq else api.DeliverPolicy.ALL,
        opt_start_seq=start_seq if by_seq else None,
    )


async def consumer_info(js, spec: StreamSpec, where: str, create: bool) -> api.ConsumerInfo | None:
    """The durable consumer's state, creating it (``create``) when it does not exist yet."""
    try:
        info = await js.consumer_info(spec.stream_name, spec.durable)
    except nats.js.errors.NotFoundError:
        if not create:
            return None
        try:
            return await js.add_consumer(spec.stream_name, config=_config(spec))
        except nats.js.errors.NotFoundError as exc:
            raise SourceReadError(
                f"{where}: JetStream stream {spec.stream_name!r} not found"
            ) from exc
    if info.config.ack_policy != api.AckPolicy.ALL:
        raise SourceReadError(
            f"{where}: consumer {spec.durable!r} of stream {spec.stream_name!r} exists with ack "
            f"policy {info.config.ack_policy}; synthcap needs its own consumer with policy 'all'"
        )
    return info


def first_unacked(info: api.ConsumerInfo) -> int:
    """The stream sequence delivery must restart at: above the ack floor, and never before
    where a recreated consumer started (its ack floor reads 0 until its first ack)."""
    return max(info.ack_floor.stream_seq + 1, info.config.opt_start_seq or 1)


async def _restart_at(js, spec: StreamSpec, start_seq: int) -> None:
    """Recreate the durable consumer so that delivery restarts at ``start_seq`` in order."""
    await js.delete_consumer(spec.stream_name, spec.durable)
    await js.add_consumer(spec.stream_name, config=_config(spec, start_seq))


async def fetch(
    spec: StreamSpec, url: str, day: dt.date, where: str
) -> tuple[list[Message], list[str]]:
    """Pending messages in stream order (with their ack subjects), up to ``batch_size``,
    stopping after the first message of another day when dates come from the broker."""
    nc = await connect(url, where)
    try:
        js = nc.jetstream()
        info = await consumer_info(js, spec, where, create=True)
        cap = None
        if info.num_ack_pending:  # an earlier capture did not ack: rebuild its batch
            cap = info.delivered.stream_seq
            await _restart_at(js, spec, first_unacked(info))
        messages: list[Message] = []
        replies: list[str] = []
        puller = Puller(nc, spec)
        try:
            while len(messages) < spec.batch_size:
                want = min(spec.batch_size - len(messages), FETCH_MAX)
                got = await puller.pull(want, wait=False)
                if not got and not messages:  # wait a while for the first message only
                    got = await puller.pull(want, wait=True)
                if not got or _take(got, messages, replies, cap, day, spec.time_field is None):
                    break
        finally:
            await puller.close()
        return messages, replies
    except nats.errors.Error as exc:
        raise SourceReadError(f"{where}: JetStream read failed: {exc}") from exc
    finally:
        await nc.close()


def _take(got, messages, replies, cap, day, broker_dates) -> bool:
    """Append ``got`` to the batch; True when the batch is complete."""
    for msg in got:
        seq, stamp = seq_and_time(msg.reply)
        if cap is not None and seq > cap:
            return True
        if messages and seq <= messages[-1].seq:  # a redelivery inside one read
            continue
        messages.append(Message(seq, msg.subject, stamp, msg.data))
        replies.append(msg.reply)
        if broker_dates and stamp.date() != day:
            return True
    return cap is not None and bool(messages) and messages[-1].seq >= cap


def acker(url: str, reply: str, where: str) -> Callable[[], None]:
    """``on_committed``: ack (policy all) up to the message whose ack subject is ``reply``."""

    async def _ack() -> None:
        nc = await connect(url, where)
        try:
            await nc.request(reply, b"+ACK", timeout=10)
        finally:
            await nc.close()

    def ack() -> None:
        asyncio.run(_ack())

    return ack


async def pending(spec: StreamSpec, url: str, where: str) -> tuple[int, Message | None]:
    """How many messages the consumer has not acked yet, and the first of them."""
    nc = await connect(url, where)
    try:
        js = nc.jetstream()
        info = await consumer_info(js, spec, where, create=False)
        floor = first_unacked(info) - 1 if info else 0
        if info is not None:
            count = (info.num_pending or 0) + (info.num_ack_pending or 0)
        else:
            stream = await js.stream_info(spec.stream_name, subjects_filter=spec.subject)
            count = sum((stream.state.subjects or {}).values()) if stream.state.subjects else 0
        if not count:
            return 0, None
        try:
            head = await js.get_msg(
                spec.stream_name, seq=floor + 1, subject=spec.subject, next=True
            )
        except nats.js.errors.NotFoundError:
            return count, None
        return count, Message(head.seq, head.subject, head.time, head.data or b"")
    except nats.js.errors.NotFoundError as exc:
        raise SourceReadError(f"{where}: JetStream stream {spec.stream_name!r} not found") from exc
    finally:
        await nc.close()


async def last_payload(spec: StreamSpec, url: str, where: str) -> bytes | None:
    """The newest payload on the subject (for ``discover``), or ``None`` when there is none."""
    nc = await connect(url, where)
    try:
        js = nc.jetstream()
        await js.stream_info(spec.stream_name)
        try:
            return (await js.get_last_msg(spec.stream_name, spec.subject)).data
        except nats.js.errors.NotFoundError:
            return None
    except nats.js.errors.NotFoundError as exc:
        raise SourceReadError(f"{where}: JetStream stream {spec.stream_name!r} not found") from exc
    finally:
        await nc.close()
