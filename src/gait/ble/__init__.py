"""Bluetooth LE: pure packet decoders (:mod:`gait.ble.protocols`), the stream assembler and
sensor-clock mapping (pure), the bleak transport (:mod:`gait.ble.transport`, the only module
that imports bleak) and a bumble virtual sensor (:mod:`gait.ble.virtual`)."""
