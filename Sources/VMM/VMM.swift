import Machine
