"""Timeline scripts: play recorded actions at their times, for tabletop replays and tests."""


def play(drill, script):
    """Submit each scripted action at its simulated second, in file order within a second."""
    for at, action in sorted(script.actions, key=lambda item: item[0]):
        if at > drill.env.now:
            yield drill.env.timeout(at - drill.env.now)
        drill.act(action)
