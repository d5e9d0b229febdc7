"""Supply chain: inventory policy per SKU from orders, stock, SKU and supplier masters.

Public entry points: `inputs.load_inputs` (find the tables), `demand.forecast_demand`
(demand and its error per SKU), `policy.compute_policy` (safety stock, reorder point,
EOQ, cover and recommended orders), `simulation.simulate_sq` (Monte Carlo check of a
policy), `classes` (ABC/XYZ) and the formulas in `inventory`.
"""
