import RISCV
import Devices
