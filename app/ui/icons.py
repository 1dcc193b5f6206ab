"""Icons drawn with QPainter at run time: no image files to ship or to go missing.

The same shapes as ``resources/icons/callmemaybe.svg`` (used by the .desktop file): a speech
bubble holding a telephone handset. The tray and window icons carry the pending-approval count
as a red badge, drawn here so both show the same number.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap

BLUE = QColor("#2f6fdf")
RED = QColor("#d93025")


def _bubble(painter: QPainter, size: float) -> None:
    s = size / 64.0
    path = QPainterPath()
    path.addRoundedRect(QRectF(4 * s, 8 * s, 56 * s, 40 * s), 6 * s, 6 * s)
    tail = QPainterPath()
    tail.moveTo(QPointF(16 * s, 46 * s))
    tail.lineTo(QPointF(16 * s, 58 * s))
    tail.lineTo(QPointF(30 * s, 46 * s))
    tail.closeSubpath()
    painter.fillPath(path.united(tail), BLUE)
    handset = QPainterPath()
    handset.moveTo(QPointF(22 * s, 16 * s))
    handset.cubicTo(QPointF(19 * s, 16 * s), QPointF(17 * s, 19 * s), QPointF(18 * s, 22 * s))
    handset.cubicTo(QPointF(20 * s, 31 * s), QPointF(26 * s, 37 * s), QPointF(35 * s, 40 * s))
    handset.cubicTo(QPointF(38 * s, 41 * s), QPointF(41 * s, 39 * s), QPointF(41 * s, 36 * s))
    handset.lineTo(QPointF(41 * s, 33 * s))
    handset.lineTo(QPointF(35 * s, 31 * s))
    handset.lineTo(QPointF(33 * s, 34 * s))
    handset.cubicTo(QPointF(29 * s, 32 * s), QPointF(26 * s, 29 * s), QPointF(24 * s, 25 * s))
    handset.lineTo(QPointF(27 * s, 23 * s))
    handset.lineTo(QPointF(25 * s, 17 * s))
    handset.closeSubpath()
    painter.fillPath(handset, QColor("white"))


def app_pixmap(size: int = 64, badge: int = 0) -> QPixmap:
    """The app icon at ``size`` pixels, with ``badge`` pending approvals shown when non-zero."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    _bubble(painter, size)
    if badge > 0:
        radius = size * 0.24
        centre = QPointF(size - radius - 1, radius + 1)
        painter.setBrush(RED)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(centre, radius, radius)
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(6, int(radius * 1.3)))
        painter.setFont(font)
        painter.setPen(QColor("white"))
        text = str(badge) if badge < 10 else "9+"
        box = QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return pixmap


def app_icon(badge: int = 0) -> QIcon:
    """The app icon in the sizes window managers and trays ask for."""
    icon = QIcon()
    for size in (16, 22, 32, 48, 64, 128):
        icon.addPixmap(app_pixmap(size, badge))
    return icon
