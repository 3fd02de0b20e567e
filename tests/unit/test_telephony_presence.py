"""The pause book: what the workstation wants wins over what Asterisk or the store says."""

from __future__ import annotations

from telephony.presence import PauseBook

A1, A2, A3 = "PJSIP/1001", "PJSIP/1002", "PJSIP/1003"


def member(iface: str, paused: bool, queue: str = "support") -> dict[str, str]:
    return {"Event": "QueueMember", "Queue": queue, "Location": iface, "Paused": "1" if paused else "0"}


def test_members_asterisk_disagrees_about_are_the_ones_to_re_apply() -> None:
    book = PauseBook()
    book.want(A1, True, "Wrap-up")
    book.want(A2, False)
    book.want(A3, True, "Break")  # not a member of any queue on this Asterisk: nothing to pause
    todo = book.compare([member(A1, False), member(A2, False), {"Event": "QueueEntry", "Channel": "x"}])
    assert todo == [A1]
    assert book.pending() == [A1]
    book.acknowledged(A1)
    assert book.pending() == []


def test_a_member_in_two_queues_agrees_only_when_both_do() -> None:
    book = PauseBook()
    book.want(A1, True, "Break")
    assert book.compare([member(A1, True), member(A1, False, "sales")]) == [A1]


def test_a_choice_made_in_this_process_beats_the_stored_presence() -> None:
    book = PauseBook()
    book.want(A1, False)  # the operator just set themselves Ready; the store still says "break"
    book.seed({A1: (True, "Break"), A2: (True, "Offline")})
    assert (book.wanted[A1].paused, book.wanted[A2].paused, book.wanted[A2].reason) == (
        False,
        True,
        "Offline",
    )


def test_asterisk_reporting_another_state_asks_for_it_again() -> None:
    book = PauseBook()
    book.want(A1, True, "Break")
    book.acknowledged(A1)
    assert book.observe(A1, True) is False
    assert book.observe(A1, False) is True
    assert book.pending() == [A1]
    assert book.observe(A2, False) is False  # nobody asked anything of this member
