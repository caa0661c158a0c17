"""Small presentation helpers for the pages: signed points, durations, the progress chart's geometry."""

from django import template

from sessions_app import rules
from sessions_app.selectors import display_name

register = template.Library()

_LIMITS = {"notes": rules.NOTES_MAX_LENGTH, "reason": rules.REASON_MAX_LENGTH, "venue": rules.VENUE_MAX_LENGTH}


@register.simple_tag
def limit(name: str) -> int:
    """A length limit of the domain layer, for maxlength attributes: {% limit "notes" %}."""
    return _LIMITS[name]


@register.filter
def signed(points) -> str:
    """+10, −5 (a real minus sign), 0."""
    points = int(points or 0)
    if points > 0:
        return f"+{points}"
    if points < 0:
        return f"\u2212{-points}"
    return "0"


@register.filter
def duration(seconds) -> str:
    """A compact active duration: 0 min, under a minute, 42 min, 1 h 05 min."""
    seconds = int(seconds or 0)
    if 0 < seconds < 60:
        return "under a minute"
    minutes = seconds // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@register.filter
def participant_name(session, role: str) -> str:
    """The display name of user1 or user2 of a session (people are select_related by the selectors)."""
    return display_name(session.user_for(role))


@register.filter
def buddy_name(session, user) -> str:
    """The other participant's display name, from the viewer's side."""
    return display_name(session.other_member(user))


# Chart geometry, in SVG user units; the SVG scales to its box with viewBox.
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 640, 220, 28


@register.inclusion_tag("sessions/_progress_chart.html")
def progress_chart(weeks: list[dict]):
    """Bars of sessions per week (completed stacked on the others) and a reputation line."""
    count = len(weeks) or 1
    slot = (CHART_WIDTH - 2 * CHART_PAD) / count
    plot_height = CHART_HEIGHT - 2 * CHART_PAD
    most = max([w["completed"] + w["other"] for w in weeks] + [1])
    low = min([w["reputation"] for w in weeks] + [0])
    high = max([w["reputation"] for w in weeks] + [1])
    span = (high - low) or 1
    bars, points = [], []
    for i, week in enumerate(weeks):
        x = CHART_PAD + i * slot + slot * 0.2
        done_h = plot_height * week["completed"] / most
        other_h = plot_height * week["other"] / most
        base = CHART_HEIGHT - CHART_PAD
        bars.append({
            "x": round(x, 1), "width": round(slot * 0.6, 1),
            "done_y": round(base - done_h, 1), "done_h": round(done_h, 1),
            "other_y": round(base - done_h - other_h, 1), "other_h": round(other_h, 1),
            "label_x": round(x + slot * 0.3, 1), "week": week,
        })
        y = CHART_HEIGHT - CHART_PAD - plot_height * (week["reputation"] - low) / span
        points.append((round(x + slot * 0.3, 1), round(y, 1)))
    return {
        "bars": bars,
        "line": " ".join(f"{x},{y}" for x, y in points),
        "dots": points,
        "top_y": CHART_PAD, "right_x": CHART_WIDTH - CHART_PAD,
        "width": CHART_WIDTH, "height": CHART_HEIGHT, "pad": CHART_PAD,
        "axis_y": CHART_HEIGHT - CHART_PAD, "axis_x2": CHART_WIDTH - CHART_PAD, "label_y": CHART_HEIGHT - 8,
        "most": most, "low": low, "high": high,
        "weeks": weeks,
    }

