"""The home page's "My work": what waits for a user now (changes awaiting their approval, their
changes past their step's time target, their changes whose next move is theirs, their drafts,
recent sign-in problems for administrators), and the one number the header's badge shows."""

from usm.services.home.my_work import (
    LIST_SIZE,
    Draft,
    MyWork,
    SignInProblems,
    WorkList,
    my_work,
    waiting_count,
)

__all__ = ["LIST_SIZE", "Draft", "MyWork", "SignInProblems", "WorkList", "my_work",
           "waiting_count"]
