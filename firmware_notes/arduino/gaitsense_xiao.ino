// GaitSense reference firmware for the Seeed XIAO nRF52840 Sense (on-board LSM6DS3TR-C).
// DOCUMENTATION ONLY: this sketch shows the protocol of firmware_notes/protocol.md in code. It is
// not built or tested by the project's CI. Libraries: ArduinoBLE, Seeed_Arduino_LSM6DS3.
//
// Board frame: x toward USB-C, z out of the component side, y = z cross x. remap() below turns
// the chip axes into it; verify on your board (flat, component side up: az = +1 g).

#include <ArduinoBLE.h>
#include <LSM6DS3.h>
#include <Wire.h>

#define SVC_UUID  "6a9b0001-3c1d-4e7f-9a2b-5c8d0e1f2a3b"
#define DATA_UUID "6a9b0002-3c1d-4e7f-9a2b-5c8d0e1f2a3b"
#define CTRL_UUID "6a9b0003-3c1d-4e7f-9a2b-5c8d0e1f2a3b"

static const uint8_t PROTO_VERSION = 1;
static const uint8_t FLAG_GYRO = 0x01, FLAG_RESTARTED = 0x02, FLAG_OVERFLOW = 0x04;
static const int HEADER = 16;
static const uint32_t MAX_BATCH_US = 100000;   // send at least every 100 ms

LSM6DS3 imu(I2C_MODE, 0x6A);
BLEService svc(SVC_UUID);
BLECharacteristic dataChar(DATA_UUID, BLENotify, 244);
BLECharacteristic ctrlChar(CTRL_UUID, BLERead | BLEWrite, 10);

struct Config { uint8_t rate = 0x14; uint8_t range = 0x42; bool gyro = true; } cfg;  // 104 Hz, 8 g, 2000 dps
bool streaming = false, restartFlag = false, overflowFlag = false;
uint32_t bootId, sampleIndex = 0, batchFirstIndex = 0, batchFirstUs = 0;
uint16_t seq = 0;
uint8_t pkt[247];
int nInBatch = 0;

float rateHz(uint8_t code) {
  static const float st[] = {12.5, 26, 52, 104, 208, 416, 833};
  static const float inv[] = {12.5, 25, 50, 100, 200, 400, 800};
  return (code & 0x10) ? st[(code & 0x0f) - 1] : inv[(code & 0x0f) - 1];
}

int samplesPerPacket() {
  int mtu = BLE.central() ? 247 : 23;          // ArduinoBLE negotiates 247 on nRF52840
  return (mtu - 3 - HEADER) / (cfg.gyro ? 12 : 6);
}

void writeStatus() {
  uint8_t s[10] = {PROTO_VERSION, (uint8_t)streaming, cfg.rate, cfg.range};
  memcpy(s + 4, &bootId, 4);
  uint16_t fw = 0x0100; memcpy(s + 8, &fw, 2);
  ctrlChar.writeValue(s, 10);
}

// chip axes -> board frame (XIAO Sense: check the orientation on your board revision)
void remap(const float in[3], float out[3]) { out[0] = in[0]; out[1] = in[1]; out[2] = in[2]; }

int16_t toCounts(float v, float fullScale) {
  float c = v / fullScale * 32768.0f;
  return (int16_t)constrain(lroundf(c), -32768, 32767);
}

void onCtrlWritten(BLEDevice, BLECharacteristic c) {
  const uint8_t* v = c.value(); int n = c.valueLength();
  if (n == 1 && v[0] == 0x02) { streaming = false; writeStatus(); return; }
  if (n == 4 && v[0] == 0x01) {
    bool same = streaming && v[1] == cfg.rate && v[2] == cfg.range && (bool)(v[3] & 1) == cfg.gyro;
    if (same) return;                            // a reconnecting host resumes the same stream
    cfg.rate = v[1]; cfg.range = v[2]; cfg.gyro = v[3] & 1;
    // (configure the IMU ODR / full scale / FIFO watermark here)
    sampleIndex = 0; nInBatch = 0; restartFlag = true; streaming = true;
    writeStatus();
  }
  // anything else: ArduinoBLE cannot send an ATT error here; the host checks the status read
}

void sendBatch() {
  if (nInBatch == 0) return;
  uint8_t flags = (cfg.gyro ? FLAG_GYRO : 0) | (restartFlag ? FLAG_RESTARTED : 0) | (overflowFlag ? FLAG_OVERFLOW : 0);
  pkt[0] = PROTO_VERSION; pkt[1] = flags;
  memcpy(pkt + 2, &seq, 2); memcpy(pkt + 4, &batchFirstIndex, 4); memcpy(pkt + 8, &batchFirstUs, 4);
  pkt[12] = nInBatch; pkt[13] = cfg.rate; pkt[14] = cfg.range; pkt[15] = 0;
  if (dataChar.subscribed()) dataChar.writeValue(pkt, HEADER + nInBatch * (cfg.gyro ? 12 : 6));
  seq++; nInBatch = 0; restartFlag = false; overflowFlag = false;   // a lost link loses the batch
}

void setup() {
  randomSeed(NRF_FICR->DEVICEADDR[0] ^ micros());
  bootId = ((uint32_t)random(0xffff) << 16) | random(0xffff);
  imu.begin();
  BLE.begin();
  char name[20]; snprintf(name, sizeof name, "GaitSense-%04X", (unsigned)(NRF_FICR->DEVICEADDR[0] & 0xffff));
  BLE.setLocalName(name);                        // ArduinoBLE puts it in the scan response
  BLE.setAdvertisedService(svc);                 // flags + 128-bit UUID = 21 bytes
  svc.addCharacteristic(dataChar); svc.addCharacteristic(ctrlChar);
  BLE.addService(svc);
  ctrlChar.setEventHandler(BLEWritten, onCtrlWritten);
  writeStatus();
  BLE.setConnectionInterval(12, 24);             // 15-30 ms
  BLE.advertise();
}

void loop() {
  BLE.poll();
  if (!streaming) return;
  static uint32_t nextUs = micros();
  uint32_t periodUs = (uint32_t)(1e6f / rateHz(cfg.rate));
  // Polling keeps the sketch short; a real build reads the IMU FIFO on its watermark interrupt
  // and back-dates the timestamp of the first sample by (samples in FIFO - 1) * period.
  if ((int32_t)(micros() - nextUs) < 0) return;
  uint32_t now = micros();
  if (now - nextUs > 2 * periodUs) overflowFlag = true;   // we fell behind: samples skipped
  while ((int32_t)(now - nextUs) >= (int32_t)periodUs) { nextUs += periodUs; sampleIndex++; }
  nextUs += periodUs;
  float a[3] = {imu.readFloatAccelX(), imu.readFloatAccelY(), imu.readFloatAccelZ()};   // g
  float g[3] = {imu.readFloatGyroX(), imu.readFloatGyroY(), imu.readFloatGyroZ()};      // deg/s
  float ab[3], gb[3]; remap(a, ab); remap(g, gb);
  static const float accFs[] = {2, 4, 8, 16}, gyrFs[] = {125, 250, 500, 1000, 2000};
  if (nInBatch == 0) { batchFirstIndex = sampleIndex; batchFirstUs = now; }
  int16_t* s = (int16_t*)(pkt + HEADER + nInBatch * (cfg.gyro ? 12 : 6));
  for (int i = 0; i < 3; i++) s[i] = toCounts(ab[i], accFs[cfg.range & 0x0f]);
  if (cfg.gyro) for (int i = 0; i < 3; i++) s[3 + i] = toCounts(gb[i], gyrFs[cfg.range >> 4]);
  nInBatch++; sampleIndex++;
  if (nInBatch >= samplesPerPacket() || now - batchFirstUs >= MAX_BATCH_US) sendBatch();
}
