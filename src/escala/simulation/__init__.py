"""The scaling lab: how each of the seed's three cases would follow a load profile.

The control loops (HPA, cluster-autoscaler, EC2 Auto Scaling and Application Auto Scaling
target tracking) are written down as their documents describe them, one module each under
`loops/`; a capacity model measured with `escala load --calibrate` says how much CPU one
chat replica needs for a given load; `simulator` steps both through a load profile in
simulated time. Pure: no cloud, no sockets, deterministic for a seed.
"""
