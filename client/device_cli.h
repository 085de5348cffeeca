// `custody device add|list|checkout|checkin`: body-worn cameras and other
// recorders, and who holds each (records.proto).
#ifndef CUSTODY_CLIENT_DEVICE_CLI_H_
#define CUSTODY_CLIENT_DEVICE_CLI_H_

#include "client/record_cli.h"

namespace custody {

// Each returns the exit code: 0, or 1 after printing why. The device is
// a.device; checkout also takes a.officer, a.battery, a.storage, a.clock.
int DeviceAddCommand(const RecordArgs& a);
int DeviceListCommand(const RecordArgs& a);
int DeviceCheckoutCommand(const RecordArgs& a);
int DeviceCheckinCommand(const RecordArgs& a);

}  // namespace custody

#endif  // CUSTODY_CLIENT_DEVICE_CLI_H_
