"""ReviewGuard's detection library: pure numpy/scipy/scikit-learn/PyOD, no Django.

Every detector here can be run from a script or a notebook on columnar arrays;
``apps/detection`` is the only bridge between the database and this package.
"""
